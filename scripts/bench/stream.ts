/**
 * npm run bench:stream
 *
 * Does the streamed reader keep memory near one tensor, whatever the file size? Writes a synthetic 130 MB
 * safetensors file to the temp folder (many tensors, the largest 16 MiB), streams it from disk through the
 * Node file source, and prints `name: value` lines: time, throughput, and the peak extra memory over the
 * largest tensor and over the file size. For contrast, the same file read whole (readSafetensors).
 *
 * The memory measure is process.memoryUsage().arrayBuffers, sampled on every chunk and every tensor and
 * every millisecond, minus its value before reading (after a forced GC). Tensor values and file chunks live
 * in ArrayBuffer backing stores, outside the JS heap, and `arrayBuffers` counts exactly those (`external`
 * includes them, so adding the two would count them twice). Garbage is not collected
 * during the run, so the peak includes dead chunks and tensors not yet collected: what the process really
 * holds. The reader's own count (stats.peakBufferedBytes: the tensor being filled plus the chunk being read)
 * is printed next to it.
 */
import { open, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { layoutSafetensors, type TensorSpec } from "../../src/components/checkpoint/layout.ts";
import { nodeFileSource } from "../../src/components/checkpoint/node-file-source.ts";
import { consumeTensors, openSafetensorsStream } from "../../src/components/checkpoint/stream-reader.ts";
import { readSafetensors } from "../../src/components/checkpoint/safetensors.ts";

const CHUNK_BYTES = 1 << 20;
const LARGEST_SHAPE = [2048, 2048]; // 16 MiB of float32, like a big attention or embedding matrix

setFlagsFromString("--expose-gc");
const gc = runInNewContext("gc") as () => void;

/** A UNet-like mix: one big matrix, many 1 MiB convolutions, many small biases and norms. */
function specs(): TensorSpec[] {
  const out: TensorSpec[] = [];
  for (let i = 0; i < 110; i++) {
    out.push({ name: `blocks.${i}.conv.weight`, dtype: "F32", shape: [256, 1024] });
    out.push({ name: `blocks.${i}.conv.bias`, dtype: "F32", shape: [256] });
    if (i === 55) out.push({ name: "mid.attention.to_qkv.weight", dtype: "F32", shape: LARGEST_SHAPE });
  }
  return out;
}

/** Value j of tensor i, so every tensor can be checked after the trip. */
const valueAt = (i: number, j: number) => i + j / 1024;

async function writeFileTensorByTensor(path: string, tensors: TensorSpec[]): Promise<number> {
  const layout = layoutSafetensors(tensors, { purpose: "bench:stream" });
  const file = await open(path, "w");
  await file.write(layout.prefix);
  for (const [i, spec] of tensors.entries()) {
    const values = new Float32Array(spec.shape.reduce((a, b) => a * b, 1));
    for (let j = 0; j < values.length; j++) values[j] = valueAt(i, j);
    await file.write(new Uint8Array(values.buffer));
  }
  await file.close();
  return layout.fileSize;
}

/** Peak of arrayBuffers (and of rss, for context: it also counts pages the allocator keeps) above the start. */
function memoryPeak() {
  gc();
  const base = process.memoryUsage();
  const peak = { arrayBuffers: 0, rss: 0 };
  const sample = () => {
    const now = process.memoryUsage();
    peak.arrayBuffers = Math.max(peak.arrayBuffers, now.arrayBuffers - base.arrayBuffers);
    peak.rss = Math.max(peak.rss, now.rss - base.rss);
  };
  const timer = setInterval(sample, 1);
  return {
    sample,
    stop() {
      clearInterval(timer);
      sample();
      return peak;
    },
  };
}

const path = join(tmpdir(), `scm-bench-stream-${process.pid}.safetensors`);
try {
  const tensors = specs();
  const fileBytes = await writeFileTensorByTensor(path, tensors);
  const largestBytes = 4 * LARGEST_SHAPE[0] * LARGEST_SHAPE[1];

  // Streamed, tensor by tensor.
  const source = await nodeFileSource(path, { chunkBytes: CHUNK_BYTES });
  const memory = memoryPeak();
  const sampledSource = {
    ...source,
    size: source.size,
    async *stream(start: number) {
      for await (const chunk of source.stream(start)) {
        memory.sample();
        yield chunk;
      }
    },
  };
  const started = performance.now();
  const stream = await openSafetensorsStream(sampledSource);
  let index = 0;
  await consumeTensors(stream.tensors(), (tensor) => {
    memory.sample();
    const last = tensor.values.length - 1;
    if (tensor.values[0] !== valueAt(index, 0) || tensor.values[last] !== Math.fround(valueAt(index, last))) throw new Error(`tensor ${tensor.name} came back wrong`);
    index++;
  });
  const seconds = (performance.now() - started) / 1000;
  const peak = memory.stop();
  if (index !== tensors.length) throw new Error(`${index} of ${tensors.length} tensors streamed`);

  // Whole file in memory, for contrast.
  const wholeMemory = memoryPeak();
  const wholeStarted = performance.now();
  const whole = readSafetensors(new Uint8Array(await readFile(path)));
  wholeMemory.sample();
  const wholeSeconds = (performance.now() - wholeStarted) / 1000;
  const wholePeak = wholeMemory.stop();
  if (Object.keys(whole.tensors).length !== tensors.length) throw new Error("whole-file read lost tensors");

  const ratio = (x: number, y: number) => (x / y).toFixed(3);
  const lines: [string, string | number][] = [
    ["file_bytes", fileBytes],
    ["tensor_count", tensors.length],
    ["largest_tensor_bytes", largestBytes],
    ["chunk_bytes", CHUNK_BYTES],
    ["stream_seconds", seconds.toFixed(3)],
    ["stream_throughput_mb_per_s", (fileBytes / 1e6 / seconds).toFixed(1)],
    ["reader_peak_buffered_bytes", stream.stats.peakBufferedBytes],
    ["reader_peak_over_largest_tensor", ratio(stream.stats.peakBufferedBytes, largestBytes)],
    ["peak_extra_array_buffers_bytes", peak.arrayBuffers],
    ["peak_extra_rss_bytes", peak.rss],
    ["peak_extra_over_largest_tensor", ratio(peak.arrayBuffers, largestBytes)],
    ["peak_extra_over_file_size", ratio(peak.arrayBuffers, fileBytes)],
    ["whole_file_seconds", wholeSeconds.toFixed(3)],
    ["whole_file_peak_extra_array_buffers_bytes", wholePeak.arrayBuffers],
    ["whole_file_peak_extra_over_file_size", ratio(wholePeak.arrayBuffers, fileBytes)],
  ];
  for (const [name, value] of lines) console.log(`${name}: ${value}`);
} finally {
  await rm(path, { force: true });
}
