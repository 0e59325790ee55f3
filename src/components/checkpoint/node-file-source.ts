/**
 * A file on disk as a byte source, for Node scripts and tests (`npm run inspect`, the benchmark). Kept in its
 * own module because it imports node:fs: the browser modules of this folder never import Node builtins.
 */
import { open, type FileHandle } from "node:fs/promises";
import type { ByteSource } from "./byte-source.js";
import { CheckpointSourceError, describeError } from "./errors.js";

export interface NodeFileSourceOptions {
  /** Bytes per chunk of stream(); each chunk is a fresh buffer. */
  chunkBytes?: number;
}

export async function nodeFileSource(path: string, options: NodeFileSourceOptions = {}): Promise<ByteSource> {
  const chunkBytes = options.chunkBytes ?? 1 << 20;
  let file: FileHandle;
  let size: number;
  try {
    file = await open(path, "r");
    size = (await file.stat()).size;
  } catch (error) {
    throw new CheckpointSourceError(`cannot open ${path}: ${describeError(error)}`, { cause: error });
  }
  let closed = false;

  async function readInto(buffer: Uint8Array, position: number): Promise<number> {
    let filled = 0;
    while (filled < buffer.length) {
      let bytesRead: number;
      try {
        ({ bytesRead } = await file.read(buffer, filled, buffer.length - filled, position + filled));
      } catch (error) {
        throw new CheckpointSourceError(`could not read ${path}: ${describeError(error)}`, { cause: error });
      }
      if (bytesRead === 0) break; // end of file
      filled += bytesRead;
    }
    return filled;
  }

  return {
    description: path,
    size,
    async read(start, end) {
      const buffer = new Uint8Array(Math.max(0, Math.min(end, size) - start));
      return buffer.subarray(0, await readInto(buffer, start));
    },
    async *stream(start) {
      for (let position = start; position < size && !closed; ) {
        const chunk = new Uint8Array(Math.min(chunkBytes, size - position));
        let filled: number;
        try {
          filled = await readInto(chunk, position);
        } catch (error) {
          if (closed) return; // closed while reading (an abort): not a read error
          throw error;
        }
        if (filled === 0) return; // the file shrank while we read it; the reader will report the truncation
        position += filled;
        yield chunk.subarray(0, filled);
      }
    },
    async close() {
      if (closed) return;
      closed = true;
      await file.close();
    },
  };
}
