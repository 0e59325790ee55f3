/**
 * Where checkpoint bytes come from: a URL, a File or Blob the user picked or dropped, a file on disk in
 * Node. The reader needs only these four things, so it cannot tell the sources apart, and tests can hand it
 * anything.
 */
export interface ByteSource {
  /** Names the file in messages: a URL, a file name or a path. */
  readonly description: string;
  /** The file's size in bytes, once known (a URL's size becomes known with the first response). */
  readonly size: number | undefined;
  /** Bytes [start, end): fewer when the file ends before `end`. */
  read(start: number, end: number): Promise<Uint8Array>;
  /**
   * Bytes from `start` to the end of the file, in order, in chunks of whatever size the source delivers.
   * Chunks are not reused, so a caller may keep them.
   */
  stream(start: number): AsyncIterable<Uint8Array>;
  /** Stop any transfer in progress and release the file or connection; the source is not used afterwards. */
  close(): Promise<void>;
}

/** Join byte arrays into one (no copy for a single one). */
export function concatenate(chunks: readonly Uint8Array[]): Uint8Array {
  if (chunks.length === 1) return chunks[0];
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.length;
  }
  return out;
}
