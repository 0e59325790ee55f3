/**
 * The URL source: Range requests, servers that ignore Range, resuming after a dropped connection, and one
 * clear line for CORS/network failures and HTTP errors. Fake fetches for exact control, and a real HTTP
 * server on 127.0.0.1 (started inside the test; nothing leaves the machine) for the real thing.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { CheckpointConsumerError, CheckpointSourceError } from "../src/components/checkpoint/errors.ts";
import { fetchShardIndex, streamShardedSafetensors, urlShards } from "../src/components/checkpoint/sharded.ts";
import { consumeTensors, HEADER_PROBE_BYTES, readSafetensorsHeader, streamSafetensors } from "../src/components/checkpoint/stream-reader.ts";
import type { StreamedTensor } from "../src/components/checkpoint/streamed-tensor.ts";
import { urlSource, type UrlSourceOptions } from "../src/components/checkpoint/url-source.ts";
import { writeSafetensors } from "../src/components/checkpoint/safetensors.ts";

const URL_ = "https://huggingface.co/org/model/resolve/0123abc/unet/diffusion_pytorch_model.safetensors";
const noWait: UrlSourceOptions = { retryDelayMs: () => 0 };

/** A checkpoint of ~330 kB (more than the header probe) with distinct values everywhere. */
function checkpoint(tensorCount = 8, valuesPerTensor = 10_000): { file: Uint8Array; expected: Map<string, Float32Array> } {
  const expected = new Map<string, Float32Array>();
  for (let t = 0; t < tensorCount; t++) expected.set(`blocks.${t}.weight`, new Float32Array(valuesPerTensor).map((_, i) => Math.cos(t * 1000 + i) * 2 ** ((i % 30) - 15)));
  const file = writeSafetensors(Object.fromEntries([...expected].map(([name, data]) => [name, { shape: [valuesPerTensor], data }])));
  return { file, expected };
}

async function collect(tensors: AsyncIterable<StreamedTensor>): Promise<StreamedTensor[]> {
  const out: StreamedTensor[] = [];
  for await (const tensor of tensors) out.push(tensor);
  return out;
}

function assertBitExact(tensors: StreamedTensor[], expected: Map<string, Float32Array>): void {
  assert.deepEqual(tensors.map((t) => t.name).sort(), [...expected.keys()].sort());
  for (const t of tensors) assert.deepEqual(new Uint32Array(t.values.buffer), new Uint32Array(expected.get(t.name)!.buffer), t.name);
}

interface FakeRequest {
  range: string | null;
  referrerPolicy: string | undefined;
  signal: AbortSignal | undefined;
}

interface FakeBehaviour {
  ignoreRange?: boolean;
  /** For request number i (0-based), the body fails after this many bytes. */
  dropAfter?: Record<number, number>;
  /** For request number i, answer with this status instead. */
  status?: Record<number, number>;
  chunkBytes?: number;
}

/** A fetch serving `file` from memory, recording every request. */
function fakeFetch(file: Uint8Array, behaviour: FakeBehaviour = {}) {
  const requests: FakeRequest[] = [];
  const fetch = async (_input: string | URL | Request, init: RequestInit = {}): Promise<Response> => {
    const number = requests.length;
    const range = new Headers(init.headers).get("range");
    requests.push({ range, referrerPolicy: init.referrerPolicy, signal: init.signal ?? undefined });
    const status = behaviour.status?.[number];
    if (status) return new Response(`error ${status}`, { status });
    const match = /^bytes=(\d+)-(\d*)$/.exec(range ?? "");
    const partial = match !== null && !behaviour.ignoreRange;
    const start = partial ? Number(match[1]) : 0;
    const end = partial && match[2] ? Math.min(Number(match[2]) + 1, file.length) : file.length;
    if (start >= file.length && partial) return new Response(null, { status: 416, headers: { "content-range": `bytes */${file.length}` } });
    const dropAfter = behaviour.dropAfter?.[number];
    const chunkBytes = behaviour.chunkBytes ?? 10_000;
    let sent = 0;
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        init.signal?.addEventListener("abort", () => controller.error(new DOMException("aborted", "AbortError")));
      },
      pull(controller) {
        if (dropAfter !== undefined && sent >= dropAfter) return controller.error(new TypeError("terminated"));
        const at = start + sent;
        if (at >= end) return controller.close();
        const size = Math.min(chunkBytes, end - at, dropAfter === undefined ? Infinity : dropAfter - sent);
        sent += size;
        controller.enqueue(file.slice(at, at + size));
      },
    });
    const headers: Record<string, string> = { "content-length": String(end - start) };
    if (partial) headers["content-range"] = `bytes ${start}-${end - 1}/${file.length}`;
    return new Response(body, { status: partial ? 206 : 200, headers });
  };
  return { fetch: fetch as typeof globalThis.fetch, requests };
}

test("fake server with Range: the header in one small request, then the body streamed; no Referer", async () => {
  const { file, expected } = checkpoint();
  const server = fakeFetch(file);
  assertBitExact(await collect(streamSafetensors(urlSource(URL_, { fetch: server.fetch }))), expected);
  assert.deepEqual(server.requests.map((r) => r.range), [`bytes=0-${HEADER_PROBE_BYTES - 1}`, `bytes=${HEADER_PROBE_BYTES}-`]);
  assert.ok(server.requests.every((r) => r.referrerPolicy === "no-referrer"));
});

test("a server that ignores Range sends the whole file once: the header read continues into the stream", async () => {
  const { file, expected } = checkpoint();
  const server = fakeFetch(file, { ignoreRange: true });
  assertBitExact(await collect(streamSafetensors(urlSource(URL_, { fetch: server.fetch }))), expected);
  assert.equal(server.requests.length, 1);
});

test("a connection dropped mid-download is resumed from the first missing byte, bit-exact", async () => {
  const { file, expected } = checkpoint();
  const server = fakeFetch(file, { dropAfter: { 1: 100_000 } });
  assertBitExact(await collect(streamSafetensors(urlSource(URL_, { fetch: server.fetch, ...noWait }))), expected);
  assert.deepEqual(server.requests.map((r) => r.range), [`bytes=0-${HEADER_PROBE_BYTES - 1}`, `bytes=${HEADER_PROBE_BYTES}-`, `bytes=${HEADER_PROBE_BYTES + 100_000}-`]);
});

test("a drop from a server that ignores Range: resumed by skipping what already arrived", async () => {
  const { file, expected } = checkpoint();
  const server = fakeFetch(file, { ignoreRange: true, dropAfter: { 0: 150_000 } });
  assertBitExact(await collect(streamSafetensors(urlSource(URL_, { fetch: server.fetch, ...noWait }))), expected);
  assert.deepEqual(server.requests.map((r) => r.range), [`bytes=0-${HEADER_PROBE_BYTES - 1}`, "bytes=150000-"]);
});

test("a resume answered 503 is retried; the transfer then completes", async () => {
  const { file, expected } = checkpoint();
  const server = fakeFetch(file, { dropAfter: { 1: 20_000 }, status: { 2: 503, 3: 503 } });
  assertBitExact(await collect(streamSafetensors(urlSource(URL_, { fetch: server.fetch, ...noWait }))), expected);
  assert.equal(server.requests.length, 5);
});

test("when resuming keeps failing, one clear error says where the download broke off", async () => {
  const { file } = checkpoint();
  const server = fakeFetch(file, { dropAfter: { 1: 30_000, 2: 0, 3: 0 } });
  const delays: number[] = [];
  const source = urlSource(URL_, { fetch: server.fetch, maxResumeAttempts: 2, retryDelayMs: (attempt) => (delays.push(attempt), 0) });
  await assert.rejects(collect(streamSafetensors(source)), (error: Error) => {
    assert.ok(error instanceof CheckpointSourceError);
    assert.equal(error.message, `the download of ${URL_} broke off at byte ${HEADER_PROBE_BYTES + 30_000} of ${file.length} and could not be resumed after 2 attempts: terminated`);
    return true;
  });
  assert.deepEqual(delays, [1, 2]);
});

test("CORS refusal or network failure: one clear line, no retries", async () => {
  const requests: string[] = [];
  const failing = (async (input: string) => {
    requests.push(input);
    throw new TypeError("Failed to fetch");
  }) as unknown as typeof fetch;
  await assert.rejects(readSafetensorsHeader(urlSource(URL_, { fetch: failing })), (error: Error) => {
    assert.ok(error instanceof CheckpointSourceError);
    assert.equal(error.message, `the server refused the request from this page (CORS) or the network failed: ${URL_} (Failed to fetch)`);
    return true;
  });
  assert.equal(requests.length, 1);
});

test("HTTP errors: 404, 401 (gated), 500 each give their own message, at once", async () => {
  const cases: [number, RegExp][] = [
    [404, /^not found \(HTTP 404\): https:.*; check the address and the revision$/],
    [401, /^access denied \(HTTP 401\) for https:.*: the repository may be gated or private/],
    [403, /^access denied \(HTTP 403\)/],
    [500, /^the server failed \(HTTP 500\) for https:.*; try again later$/],
    [429, /^too many requests \(HTTP 429\)/],
  ];
  for (const [status, message] of cases) {
    const server = fakeFetch(new Uint8Array(100), { status: { 0: status } });
    await assert.rejects(collect(streamSafetensors(urlSource(URL_, { fetch: server.fetch, ...noWait }))), (error: Error) => {
      assert.ok(error instanceof CheckpointSourceError && error.status === status);
      assert.match(error.message, message);
      return true;
    });
    assert.equal(server.requests.length, 1, `HTTP ${status}: no retries`);
  }
});

test("a consumer that throws aborts the fetch", async () => {
  const { file } = checkpoint();
  const server = fakeFetch(file, { chunkBytes: 1000 });
  const run = consumeTensors(streamSafetensors(urlSource(URL_, { fetch: server.fetch })), (tensor) => {
    if (tensor.name === "blocks.2.weight") throw new RangeError("WebGPU: out of memory");
  });
  await assert.rejects(run, (error: Error) => error instanceof CheckpointConsumerError && /"blocks\.2\.weight" failed.*out of memory/.test(error.message));
  assert.equal(server.requests.length, 2);
  assert.ok(server.requests[1].signal?.aborted, "the body request was aborted");
});

test("reading the header of a remote file downloads only the first bytes", async () => {
  const { file } = checkpoint(8, 100_000);
  const server = fakeFetch(file);
  const source = urlSource(URL_, { fetch: server.fetch });
  const header = await readSafetensorsHeader(source);
  assert.equal(header.tensors.length, 8);
  assert.equal(source.size, file.length);
  assert.deepEqual(server.requests.map((r) => r.range), [`bytes=0-${HEADER_PROBE_BYTES - 1}`]);
});

test("a 206 with the wrong Content-Range is refused", async () => {
  const lying = (async () =>
    new Response(new Uint8Array(10), { status: 206, headers: { "content-range": "bytes 5-14/100" } })) as unknown as typeof fetch;
  await assert.rejects(readSafetensorsHeader(urlSource(URL_, { fetch: lying })), /the server sent bytes from 5 when asked for bytes from 0/);
});

// ——— A real HTTP server on 127.0.0.1 ———

interface ServeOptions {
  ignoreRange?: boolean;
  /** The first response whose body is longer than this is cut off after this many bytes. */
  dropOnceAfter?: number;
}

async function serve(files: Record<string, Uint8Array | string>, options: ServeOptions = {}) {
  const ranges: (string | undefined)[] = [];
  let dropped = false;
  const server = createServer((request: IncomingMessage, response: ServerResponse) => {
    const body = files[request.url ?? ""];
    ranges.push(request.headers.range);
    if (body === undefined) return response.writeHead(404, { "content-type": "text/plain" }).end("Entry not found");
    const bytes = typeof body === "string" ? new TextEncoder().encode(body) : body;
    const match = /^bytes=(\d+)-(\d*)$/.exec(request.headers.range ?? "");
    let start = 0;
    let end = bytes.length;
    if (match && !options.ignoreRange) {
      start = Number(match[1]);
      end = match[2] ? Math.min(Number(match[2]) + 1, bytes.length) : bytes.length;
      response.writeHead(206, { "content-range": `bytes ${start}-${end - 1}/${bytes.length}`, "content-length": end - start, "accept-ranges": "bytes" });
    } else {
      response.writeHead(200, { "content-length": bytes.length });
    }
    if (options.dropOnceAfter !== undefined && !dropped && end - start > options.dropOnceAfter) {
      dropped = true;
      response.write(bytes.subarray(start, start + options.dropOnceAfter), () => response.socket?.destroy());
      return;
    }
    response.end(bytes.subarray(start, end));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    base,
    ranges,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

test("real HTTP server: Range requests, then the body; bit-exact", async () => {
  const { file, expected } = checkpoint();
  const server = await serve({ "/model.safetensors": file });
  try {
    assertBitExact(await collect(streamSafetensors(urlSource(`${server.base}/model.safetensors`))), expected);
    assert.deepEqual(server.ranges, [`bytes=0-${HEADER_PROBE_BYTES - 1}`, `bytes=${HEADER_PROBE_BYTES}-`]);
  } finally {
    await server.close();
  }
});

test("real HTTP server ignoring Range: one request, bit-exact", async () => {
  const { file, expected } = checkpoint();
  const server = await serve({ "/model.safetensors": file }, { ignoreRange: true });
  try {
    assertBitExact(await collect(streamSafetensors(urlSource(`${server.base}/model.safetensors`))), expected);
    assert.equal(server.ranges.length, 1);
  } finally {
    await server.close();
  }
});

test("real HTTP server dropping the connection mid-body: resumed with a Range request, bit-exact", async () => {
  const { file, expected } = checkpoint();
  const server = await serve({ "/model.safetensors": file }, { dropOnceAfter: 100_000 });
  try {
    assertBitExact(await collect(streamSafetensors(urlSource(`${server.base}/model.safetensors`, noWait))), expected);
    assert.equal(server.ranges.length, 3);
    const resumedFrom = Number(/^bytes=(\d+)-$/.exec(server.ranges[2] ?? "")?.[1]);
    assert.ok(resumedFrom > HEADER_PROBE_BYTES && resumedFrom <= HEADER_PROBE_BYTES + 100_000, `resumed from ${server.ranges[2]}`);
  } finally {
    await server.close();
  }
});

test("real HTTP server: 404, and a refused connection, each in one line", async () => {
  const server = await serve({});
  await assert.rejects(readSafetensorsHeader(urlSource(`${server.base}/nope.safetensors`)), /^CheckpointSourceError: not found \(HTTP 404/);
  await server.close(); // now nothing listens on that port
  await assert.rejects(readSafetensorsHeader(urlSource(`${server.base}/nope.safetensors`)), (error: Error) => {
    assert.match(error.message, /^the server refused the request from this page \(CORS\) or the network failed: http:\/\/127\.0\.0\.1:\d+\/nope\.safetensors \(fetch failed: .*ECONNREFUSED/);
    return true;
  });
});

test("real HTTP server: a sharded checkpoint, index and shards fetched relative to the index URL", async () => {
  const a = checkpoint(3, 20_000);
  const b = writeSafetensors({ "out.bias": { shape: [2], data: Float32Array.of(0.5, -0.5) } });
  const index = JSON.stringify({
    metadata: { total_size: a.file.length + b.length },
    weight_map: { ...Object.fromEntries([...a.expected.keys()].map((name) => [name, "model-00001-of-00002.safetensors"])), "out.bias": "model-00002-of-00002.safetensors" },
  });
  const server = await serve({ "/unet/model.safetensors.index.json": index, "/unet/model-00001-of-00002.safetensors": a.file, "/unet/model-00002-of-00002.safetensors": b });
  try {
    const indexUrl = `${server.base}/unet/model.safetensors.index.json`;
    const tensors = await collect(streamShardedSafetensors(await fetchShardIndex(indexUrl), urlShards(indexUrl)));
    assert.equal(tensors.length, 4);
    assertBitExact(tensors.slice(0, 3), a.expected);
    assert.deepEqual([...tensors[3].values], [0.5, -0.5]);
  } finally {
    await server.close();
  }
});
