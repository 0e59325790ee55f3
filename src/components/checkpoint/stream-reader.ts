/**
 * The streamed safetensors reader: reads and validates the header first (so a wrong file fails before the
 * download starts in earnest), then hands out one tensor at a time, in file order, as soon as its last byte
 * has arrived. It holds only the tensor being filled and the chunk being read, never the whole file: a
 * 1.18 GB checkpoint can go to the GPU tensor by tensor.
 *
 *   const stream = await openSafetensorsStream(urlSource(url), { onProgress });
 *   show(stream.header);                       // names, shapes, size: before the big download
 *   await consumeTensors(stream.tensors(), (t) => upload(t));
 */
import { concatenate, type ByteSource } from "./byte-source.js";
import { CheckpointConsumerError, CheckpointFormatError } from "./errors.js";
import { isDecodableDtype, TensorDecoder } from "./dtypes.js";
import { elementCount, parseSafetensorsHeader, type SafetensorsHeader, type TensorEntry } from "./header.js";
import { ProgressMeter, type ProgressCallback, type ProgressMeterOptions } from "./progress.js";
import { checkSafetensorsPrefix } from "./sniff.js";
import type { StreamedTensor } from "./streamed-tensor.js";

/**
 * The first read asks for this many bytes: the header length, and usually the whole header (a UNet's
 * header is tens of kilobytes), in one request. A longer header takes a second request.
 */
export const HEADER_PROBE_BYTES = 64 * 1024;

export interface StreamOptions {
  /** Aborting it stops the transfer; the iteration then throws the signal's reason. */
  signal?: AbortSignal;
  onProgress?: ProgressCallback;
  /** Report interval, rate window and clock of the progress reports. */
  progress?: ProgressMeterOptions;
  /** Count the bytes on this meter instead (one meter for several files); `onProgress` is then unused. */
  meter?: ProgressMeter;
}

export interface StreamStats {
  /** Bytes taken from the source so far. */
  bytesRead: number;
  /**
   * The most bytes the reader held at once: the tensor being filled plus the chunk being read (or the
   * header). Memory tests assert it stays near the largest tensor, far below the file size.
   */
  peakBufferedBytes: number;
}

export interface SafetensorsStream {
  readonly header: SafetensorsHeader;
  /** The file's size, when the source knows it. */
  readonly fileSize: number | undefined;
  readonly stats: StreamStats;
  /** The tensors in file order; call once. Finishing, breaking off or failing closes the source. */
  tensors(): AsyncGenerator<StreamedTensor>;
  /** Give up without reading the tensors (e.g. the user declined the download). */
  close(): Promise<void>;
}

/** Read only the header, then close the source: what `npm run inspect` shows, and a remote file's contents list. */
export async function readSafetensorsHeader(source: ByteSource): Promise<SafetensorsHeader> {
  try {
    return (await readHeader(source, new ProgressMeter(undefined), { bytesRead: 0, peakBufferedBytes: 0 })).header;
  } finally {
    await source.close();
  }
}

/** Read and check the header, ready to stream the tensors. Throws if a tensor has a dtype we cannot decode. */
export async function openSafetensorsStream(source: ByteSource, options: StreamOptions = {}): Promise<SafetensorsStream> {
  const { signal } = options;
  signal?.throwIfAborted();
  const onAbort = () => void source.close();
  signal?.addEventListener("abort", onAbort, { once: true });
  const release = async () => {
    signal?.removeEventListener("abort", onAbort);
    await source.close();
  };
  const ownMeter = options.meter === undefined;
  const meter = options.meter ?? new ProgressMeter(options.onProgress, options.progress);
  const stats: StreamStats = { bytesRead: 0, peakBufferedBytes: 0 };
  let opened: Awaited<ReturnType<typeof readHeader>>;
  try {
    opened = await readHeader(source, meter, stats, ownMeter);
    for (const entry of opened.header.tensors) {
      if (!isDecodableDtype(entry.dtype)) {
        throw new CheckpointFormatError(`unsupported dtype ${entry.dtype} for tensor "${entry.name}": only F32, F16 and BF16 tensors can be loaded (convert the checkpoint to F32)`);
      }
    }
  } catch (error) {
    await release();
    throw signal?.aborted ? signal.reason : error;
  }
  const { header, leftover } = opened;
  let started = false;
  return {
    header,
    fileSize: source.size,
    stats,
    tensors() {
      if (started) throw new Error("tensors() can be called only once per stream");
      started = true;
      return streamTensors(source, header, leftover, { meter, ownMeter, stats, signal, release });
    },
    close: release,
  };
}

/** Open and stream in one go, when the header is not needed first. */
export async function* streamSafetensors(source: ByteSource, options: StreamOptions = {}): AsyncGenerator<StreamedTensor> {
  const stream = await openSafetensorsStream(source, options);
  yield* stream.tensors();
}

/**
 * Hand every tensor to `onTensor` (which may be async, e.g. a GPU upload) and return how many there were.
 * If `onTensor` throws, the download stops at once (the source is closed, a fetch aborted) and a
 * CheckpointConsumerError naming the tensor is thrown.
 */
export async function consumeTensors(tensors: AsyncIterable<StreamedTensor>, onTensor: (tensor: StreamedTensor) => void | Promise<void>): Promise<number> {
  let count = 0;
  // Throwing out of for-await runs the generator's cleanup (closing the source) before the error surfaces.
  for await (const tensor of tensors) {
    try {
      await onTensor(tensor);
    } catch (error) {
      throw new CheckpointConsumerError(tensor.name, error);
    }
    count++;
  }
  return count;
}

/** The header, and the bytes after it that the header reads already brought. */
async function readHeader(source: ByteSource, meter: ProgressMeter, stats: StreamStats, setTotal = false): Promise<{ header: SafetensorsHeader; leftover: Uint8Array }> {
  const probe = await source.read(0, HEADER_PROBE_BYTES);
  count(probe, meter, stats);
  // A short answer means the file ended: its size is known even when the source could not say.
  let fileSize = source.size ?? (probe.length < HEADER_PROBE_BYTES ? probe.length : undefined);
  if (setTotal) meter.totalBytes = fileSize;
  const dataStart = 8 + checkSafetensorsPrefix(probe, fileSize);
  let json: Uint8Array;
  let leftover: Uint8Array;
  if (probe.length >= dataStart) {
    json = probe.subarray(8, dataStart);
    leftover = probe.subarray(dataStart);
  } else {
    const rest = await source.read(probe.length, dataStart);
    count(rest, meter, stats);
    if (probe.length + rest.length < dataStart) {
      throw new CheckpointFormatError(`not a safetensors file, or truncated: the header claims ${dataStart - 8} bytes but only ${probe.length + rest.length - 8} follow`);
    }
    json = concatenate([probe.subarray(8), rest]);
    leftover = new Uint8Array(0);
    stats.peakBufferedBytes = Math.max(stats.peakBufferedBytes, probe.length + rest.length + json.length);
  }
  fileSize = source.size ?? fileSize;
  if (setTotal) meter.totalBytes = fileSize;
  const header = parseSafetensorsHeader(json, dataStart, fileSize === undefined ? undefined : fileSize - dataStart);
  return { header, leftover };
}

function count(bytes: Uint8Array, meter: ProgressMeter, stats: StreamStats): void {
  meter.add(bytes.length);
  stats.bytesRead += bytes.length;
  stats.peakBufferedBytes = Math.max(stats.peakBufferedBytes, bytes.length);
}

interface StreamContext {
  meter: ProgressMeter;
  ownMeter: boolean;
  stats: StreamStats;
  signal: AbortSignal | undefined;
  release: () => Promise<void>;
}

async function* streamTensors(source: ByteSource, header: SafetensorsHeader, leftover: Uint8Array, context: StreamContext): AsyncGenerator<StreamedTensor> {
  const { meter, stats, signal } = context;
  // The chunk being read and the read position in it; `position` is the matching offset in the data section.
  let chunk = leftover;
  let offset = 0;
  let position = 0;
  // Started on first need: when the header reads brought every tensor byte, nothing more is requested.
  let chunks: AsyncIterator<Uint8Array> | undefined;
  let decoding = 0; // bytes of the tensor being filled

  const nextChunk = async (entry: TensorEntry): Promise<void> => {
    chunks ??= source.stream(header.dataStart + leftover.length)[Symbol.asyncIterator]();
    const result = await chunks.next();
    if (result.done) {
      throw new CheckpointFormatError(
        `truncated: the file ends after ${header.dataStart + position} bytes, inside tensor "${entry.name}", which needs bytes up to ${header.dataStart + entry.end}`,
      );
    }
    chunk = result.value;
    offset = 0;
    meter.add(chunk.length);
    stats.bytesRead += chunk.length;
    stats.peakBufferedBytes = Math.max(stats.peakBufferedBytes, decoding + chunk.length);
  };

  try {
    for (const entry of header.tensors) {
      signal?.throwIfAborted(); // also when the bytes are already in hand
      while (position < entry.begin) {
        // Bytes no tensor claims (the format forbids holes, but we need not care): skip them.
        if (offset === chunk.length) await nextChunk(entry);
        const step = Math.min(chunk.length - offset, entry.begin - position);
        offset += step;
        position += step;
      }
      const decoder = new TensorDecoder(entry.dtype as StreamedTensor["dtype"], elementCount(entry.shape));
      decoding = decoder.values.byteLength;
      stats.peakBufferedBytes = Math.max(stats.peakBufferedBytes, decoding + chunk.length);
      while (decoder.remaining > 0) {
        if (offset === chunk.length) await nextChunk(entry);
        const take = Math.min(chunk.length - offset, decoder.remaining);
        decoder.write(chunk.subarray(offset, offset + take));
        offset += take;
        position += take;
      }
      decoding = 0;
      yield { name: entry.name, dtype: decoder.dtype, shape: [...entry.shape], values: decoder.values };
    }
    if (context.ownMeter) meter.finish();
  } catch (error) {
    throw signal?.aborted ? signal.reason : error;
  } finally {
    await chunks?.return?.();
    await context.release();
  }
}
