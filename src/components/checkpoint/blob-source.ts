/**
 * A File or Blob as a byte source: what the file picker and drag and drop give a page (and what the Cache
 * Storage API returns). Browsers read a File from disk on demand, so neither slicing nor streaming loads
 * the whole file into memory.
 */
import type { ByteSource } from "./byte-source.js";
import { CheckpointSourceError, describeError } from "./errors.js";

export function blobSource(blob: Blob, description = blob instanceof File ? blob.name : "the file"): ByteSource {
  const readers = new Set<ReadableStreamDefaultReader<Uint8Array>>();
  let closed = false;
  const failed = (error: unknown) => new CheckpointSourceError(`could not read ${description}: ${describeError(error)}`, { cause: error });

  return {
    description,
    size: blob.size,
    async read(start, end) {
      try {
        return new Uint8Array(await blob.slice(start, end).arrayBuffer());
      } catch (error) {
        throw failed(error);
      }
    },
    async *stream(start) {
      const reader = blob.slice(start).stream().getReader();
      readers.add(reader);
      try {
        while (!closed) {
          let result: ReadableStreamReadResult<Uint8Array>;
          try {
            result = await reader.read();
          } catch (error) {
            if (closed) return;
            throw failed(error);
          }
          if (result.done) return;
          yield result.value;
        }
      } finally {
        readers.delete(reader);
        reader.cancel().catch(() => {});
      }
    },
    async close() {
      closed = true;
      await Promise.all([...readers].map((reader) => reader.cancel().catch(() => {})));
    },
  };
}
