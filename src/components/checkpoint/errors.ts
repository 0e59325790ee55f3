/**
 * The three ways loading a checkpoint can fail, as three error classes, so a page can word its advice:
 * - CheckpointFormatError: the bytes arrived but are not a checkpoint we can read (a pickle, an HTML error
 *   page, a bad header, an unsupported dtype…). Retrying will not help.
 * - CheckpointSourceError: the bytes did not arrive (CORS or network failure, HTTP error, unreadable file).
 *   Retrying later, or another URL, may help.
 * - CheckpointConsumerError: the bytes were fine but the code using a tensor failed (e.g. the GPU ran out of
 *   memory while uploading it); the download was stopped.
 * Every message is one line that says what is wrong.
 */

export class CheckpointFormatError extends Error {
  override name = "CheckpointFormatError";
}

export class CheckpointSourceError extends Error {
  override name = "CheckpointSourceError";
  /** The HTTP status when the server answered with an error status. */
  readonly status: number | undefined;
  /** Worth retrying later: a dropped connection, or a status that means "not now" (408, 429, 5xx). */
  readonly transient: boolean;
  constructor(message: string, options: { status?: number; transient?: boolean; cause?: unknown } = {}) {
    super(message, { cause: options.cause });
    this.status = options.status;
    const status = options.status ?? 0;
    this.transient = options.transient ?? (status === 408 || status === 429 || status >= 500);
  }
}

export class CheckpointConsumerError extends Error {
  override name = "CheckpointConsumerError";
  readonly tensorName: string;
  constructor(tensorName: string, cause: unknown) {
    super(`using tensor "${tensorName}" failed, so the download was stopped: ${describeError(cause)}`, { cause });
    this.tensorName = tensorName;
  }
}

/** The message of anything thrown, on one line. */
export function describeError(error: unknown): string {
  const text = error instanceof Error ? error.message || error.name : String(error);
  return text.replace(/\s*\n\s*/g, " ");
}
