/**
 * A URL as a byte source, over fetch. Large checkpoints (1.18 GB for the ImageNet-64 consistency models) are
 * streamed, never loaded whole, and the connection may drop on the way, so this source
 * - asks for byte ranges (`Range: bytes=a-b`) and checks the answer (`206` + `Content-Range`);
 * - copes with servers that ignore Range and send the whole file with `200`: the bytes before the wanted
 *   position are skipped, and a body opened for the header is kept ("parked") so streaming the rest continues
 *   it instead of downloading the file a second time;
 * - resumes a broken download with a Range request from the first missing byte, a bounded number of times;
 * - sends no Referer (`referrerPolicy: "no-referrer"`): Hugging Face answers 404 without CORS headers to
 *   some referring hosts, which the browser reports as a misleading CORS error;
 * - turns failures into one-line CheckpointSourceError messages.
 */
import { concatenate, type ByteSource } from "./byte-source.js";
import { CheckpointSourceError, describeError } from "./errors.js";

export interface UrlSourceOptions {
  /** The fetch to use; tests pass fakes. Defaults to the global fetch. */
  fetch?: typeof fetch;
  /** Attempts to resume after a dropped connection, in a row without progress, before giving up. */
  maxResumeAttempts?: number;
  /** Milliseconds to wait before resume attempt number `attempt` (1, 2, …). */
  retryDelayMs?: (attempt: number) => number;
}

const defaultRetryDelay = (attempt: number) => Math.min(8000, 500 * 2 ** (attempt - 1));

/** The one-line message for a fetch that threw: in a browser, CORS refusals and network failures look alike. */
export function networkFailure(url: string, error: unknown): CheckpointSourceError {
  const cause = error instanceof Error && error.cause !== undefined ? `: ${describeError(error.cause)}` : "";
  return new CheckpointSourceError(`the server refused the request from this page (CORS) or the network failed: ${url} (${describeError(error)}${cause})`, { cause: error });
}

/** The one-line message for an HTTP error status. */
export function httpFailure(url: string, response: Response): CheckpointSourceError {
  const status = response.status;
  const what = `HTTP ${status}${response.statusText ? ` ${response.statusText}` : ""}`;
  let message: string;
  if (status === 401 || status === 403) {
    message = `access denied (${what}) for ${url}: the repository may be gated or private; accept its terms on the hub, or download the file and open it from disk`;
  } else if (status === 404 || status === 410) {
    message = `not found (${what}): ${url}; check the address and the revision`;
  } else if (status === 429) {
    message = `too many requests (${what}) for ${url}; wait a while and try again`;
  } else if (status >= 500) {
    message = `the server failed (${what}) for ${url}; try again later`;
  } else {
    message = `unexpected answer (${what}) for ${url}`;
  }
  return new CheckpointSourceError(message, { status });
}

/** Worth retrying: the connection broke, or the server said "later". */
function isTransient(error: unknown): boolean {
  return error instanceof CheckpointSourceError ? error.transient : true; // anything else came from the network
}

/**
 * The unread part of one response body, positioned at file offset `position`. `skip` bytes are dropped
 * first: a server that ignored our Range header sends the file from byte 0.
 */
class Body {
  private pending: Uint8Array | undefined;
  constructor(
    private readonly reader: ReadableStreamDefaultReader<Uint8Array>,
    public position: number,
    private skip: number,
    /** True when the body runs to the end of the file, so bytes past a bounded read can be parked. */
    readonly toEndOfFile: boolean,
  ) {}

  /** The next bytes, or undefined at the end of the response. */
  async next(): Promise<Uint8Array | undefined> {
    for (;;) {
      let chunk: Uint8Array;
      if (this.pending) {
        chunk = this.pending;
        this.pending = undefined;
      } else {
        const result = await this.reader.read();
        if (result.done) return undefined;
        chunk = result.value;
      }
      if (this.skip >= chunk.length) {
        this.skip -= chunk.length;
        continue;
      }
      chunk = chunk.subarray(this.skip);
      this.skip = 0;
      this.position += chunk.length;
      return chunk;
    }
  }

  /** Give back the tail of the last chunk, which lies beyond what the caller wanted. */
  unread(tail: Uint8Array): void {
    if (tail.length === 0) return;
    this.pending = tail;
    this.position -= tail.length;
  }

  cancel(): void {
    this.reader.cancel().catch(() => {});
  }
}

export function urlSource(url: string, options: UrlSourceOptions = {}): ByteSource {
  const fetchImpl = options.fetch ?? globalThis.fetch.bind(globalThis);
  const maxResumeAttempts = options.maxResumeAttempts ?? 5;
  const retryDelayMs = options.retryDelayMs ?? defaultRetryDelay;
  const controller = new AbortController();
  let size: number | undefined;
  let answered = false; // the server has sent a good answer before: later failures are worth retrying
  let parked: Body | undefined; // a whole-file body left after a bounded read, continued by the next read
  const open = new Set<Body>();

  const stopped = () => new DOMException(`the download of ${url} was stopped`, "AbortError");

  function learnSize(total: number): void {
    if (size !== undefined && size !== total) {
      throw new CheckpointSourceError(`the file changed on the server during the download (${size} bytes, now ${total}): ${url}`);
    }
    size = total;
  }

  /** A body positioned at `position`: the parked one if it is there, else a new (Range) request. */
  async function openBody(position: number, end: number | undefined): Promise<Body | "end of file"> {
    if (parked && parked.position === position) {
      const body = parked;
      parked = undefined;
      return body;
    }
    parked?.cancel();
    parked = undefined;
    const headers: Record<string, string> = {};
    if (position > 0 || end !== undefined) headers.Range = `bytes=${position}-${end === undefined ? "" : end - 1}`;
    let response: Response;
    try {
      response = await fetchImpl(url, { headers, referrerPolicy: "no-referrer", signal: controller.signal });
    } catch (error) {
      if (controller.signal.aborted) throw stopped();
      throw answered ? new CheckpointSourceError(`the connection failed: ${describeError(error)}`, { transient: true, cause: error }) : networkFailure(url, error);
    }
    const contentRange = response.headers.get("content-range");
    if (response.status === 416) {
      // Asked from beyond the end: the server says how long the file is ("bytes */1234").
      response.body?.cancel().catch(() => {});
      const total = /^bytes \*\/(\d+)$/.exec(contentRange ?? "");
      if (total) learnSize(Number(total[1]));
      return "end of file";
    }
    if (!response.ok) {
      response.body?.cancel().catch(() => {});
      throw httpFailure(url, response);
    }
    if (!response.body) throw new CheckpointSourceError(`the server sent no body for ${url}`);
    let skip = 0;
    if (response.status === 206) {
      const range = /^bytes (\d+)-(\d+)\/(\d+|\*)$/.exec(contentRange ?? "");
      // Cross-origin, Content-Range is readable only when the server exposes it; without it, trust the 206.
      if (range && Number(range[1]) !== position) {
        response.body.cancel().catch(() => {});
        throw new CheckpointSourceError(`the server sent bytes from ${range[1]} when asked for bytes from ${position}: ${url}`);
      }
      if (range && range[3] !== "*") learnSize(Number(range[3]));
    } else {
      skip = position; // 200: the whole file, Range ignored
      const length = response.headers.get("content-length");
      // A compressed body's length is not the file's size.
      if (length !== null && !response.headers.get("content-encoding")) learnSize(Number(length));
    }
    answered = true;
    return new Body(response.body.getReader(), position, skip, response.status === 200);
  }

  /** Bytes [start, end) (end undefined: to the end of the file), resuming after dropped connections. */
  async function* pull(start: number, end: number | undefined): AsyncGenerator<Uint8Array> {
    let position = start;
    let failures = 0;
    while (end === undefined || position < end) {
      if (size !== undefined && position >= size) return;
      let body: Body | "end of file" | undefined;
      let lastError: unknown;
      try {
        body = await openBody(position, end);
        if (body === "end of file") return;
        open.add(body);
        for (;;) {
          const chunk = await body.next();
          if (!chunk) break;
          const wanted = end === undefined ? chunk : chunk.subarray(0, end - position);
          position += wanted.length;
          failures = 0;
          if (end !== undefined && position >= end) {
            // Done. A whole-file body is kept for the next read, which most likely starts right here.
            if (body.toEndOfFile) {
              body.unread(chunk.subarray(wanted.length));
              open.delete(body);
              parked = body;
              body = undefined;
            }
            if (wanted.length > 0) yield wanted;
            return;
          }
          yield wanted;
        }
        if (size === undefined || position >= size) return; // the end of the file
        lastError = new Error(`the response ended at byte ${position}`);
      } catch (error) {
        if (controller.signal.aborted) throw stopped();
        // Retry only what may pass, and only once this server has answered well: a first request that fails
        // (CORS, 404, …) fails at once.
        if (!answered || !isTransient(error)) throw error;
        lastError = error;
      } finally {
        if (body && body !== "end of file") {
          open.delete(body);
          body.cancel();
        }
      }
      failures++;
      if (failures > maxResumeAttempts) {
        const of = size === undefined ? "" : ` of ${size}`;
        throw new CheckpointSourceError(`the download of ${url} broke off at byte ${position}${of} and could not be resumed after ${maxResumeAttempts} attempts: ${describeError(lastError)}`, { cause: lastError });
      }
      await sleep(retryDelayMs(failures), controller.signal).catch(() => {
        throw stopped();
      });
    }
  }

  return {
    description: url,
    get size() {
      return size;
    },
    async read(start, end) {
      const chunks: Uint8Array[] = [];
      for await (const chunk of pull(start, end)) chunks.push(chunk);
      return concatenate(chunks);
    },
    stream(start) {
      return pull(start, undefined);
    },
    async close() {
      controller.abort();
      parked?.cancel();
      parked = undefined;
      for (const body of open) body.cancel();
      open.clear();
    },
  };
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    signal.addEventListener("abort", onAbort, { once: true });
  });
}
