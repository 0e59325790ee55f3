/**
 * The streamed reader: tensors come out bit-exact, in file order, as soon as their bytes are in; the reader
 * holds about one tensor, not the file; a failing consumer or an abort stops the reading.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, open, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { blobSource } from "../src/components/checkpoint/blob-source.ts";
import type { ByteSource } from "../src/components/checkpoint/byte-source.ts";
import { CheckpointConsumerError, CheckpointFormatError } from "../src/components/checkpoint/errors.ts";
import { encodeSafetensors, layoutSafetensors } from "../src/components/checkpoint/layout.ts";
import { nodeFileSource } from "../src/components/checkpoint/node-file-source.ts";
import type { DownloadProgress } from "../src/components/checkpoint/progress.ts";
import { consumeTensors, openSafetensorsStream, readSafetensorsHeader, streamSafetensors, HEADER_PROBE_BYTES } from "../src/components/checkpoint/stream-reader.ts";
import type { StreamedTensor } from "../src/components/checkpoint/streamed-tensor.ts";
import { writeSafetensors } from "../src/components/checkpoint/safetensors.ts";

/** Wraps a source to see what the reader asks of it. */
function recorded(inner: ByteSource, hideSize = false) {
  const log = { reads: [] as [number, number][], delivered: 0, closed: false };
  const source: ByteSource = {
    description: inner.description,
    get size() {
      return hideSize ? undefined : inner.size;
    },
    async read(start, end) {
      log.reads.push([start, end]);
      const bytes = await inner.read(start, end);
      log.delivered = Math.max(log.delivered, start + bytes.length);
      return bytes;
    },
    async *stream(start) {
      let position = start;
      for await (const chunk of inner.stream(start)) {
        position += chunk.length;
        log.delivered = Math.max(log.delivered, position);
        yield chunk;
      }
    },
    async close() {
      log.closed = true;
      await inner.close();
    },
  };
  return { source, log };
}

/** A Blob delivered in small chunks, as a network would. */
function chunkedBlobSource(bytes: Uint8Array<ArrayBuffer>, chunkBytes: number): ByteSource {
  const blob = blobSource(new Blob([bytes]));
  return {
    ...blob,
    size: bytes.length,
    read: (start, end) => blob.read(start, end),
    async *stream(start) {
      for (let at = start; at < bytes.length; at += chunkBytes) yield bytes.slice(at, Math.min(at + chunkBytes, bytes.length));
    },
    close: () => blob.close(),
  };
}

async function collect(tensors: AsyncIterable<StreamedTensor>): Promise<StreamedTensor[]> {
  const out: StreamedTensor[] = [];
  for await (const tensor of tensors) out.push(tensor);
  return out;
}

const bits = (values: Float32Array) => [...new Uint32Array(values.buffer, values.byteOffset, values.length)];

test("F32 round trip: written by writeSafetensors, streamed back bit-exact, with shapes and metadata", async () => {
  const values = new Float32Array(3000).map((_, i) => Math.sin(i) * 10 ** ((i % 40) - 20));
  const written = writeSafetensors(
    { "down.0.conv.weight": { shape: [10, 3, 10, 10], data: values }, "down.0.conv.bias": { shape: [10], data: values.slice(0, 10) } },
    { config: '{"channels": 10}' },
  );
  for (const chunkBytes of [1, 7, 4096, 1 << 20]) {
    const stream = await openSafetensorsStream(chunkedBlobSource(written, chunkBytes));
    assert.deepEqual(stream.header.metadata, { config: '{"channels": 10}' });
    const tensors = await collect(stream.tensors());
    assert.deepEqual(tensors.map((t) => [t.name, t.dtype, t.shape]), [["down.0.conv.bias", "F32", [10]], ["down.0.conv.weight", "F32", [10, 3, 10, 10]]]);
    assert.deepEqual(bits(tensors[1].values), bits(values));
    assert.deepEqual(bits(tensors[0].values), bits(values.slice(0, 10)));
  }
});

test("F32 special bit patterns survive exactly: -0, subnormals, infinities, a NaN payload", async () => {
  const patterns = Uint32Array.from([0x80000000, 0x00000001, 0x007fffff, 0x7f800000, 0xff800000, 0x7fa00001, 0xffc12345, 0x3f800000]);
  const file = encodeSafetensors([{ name: "x", dtype: "F32", shape: [8], bytes: new Uint8Array(patterns.buffer) }]);
  const [tensor] = await collect(streamSafetensors(chunkedBlobSource(file, 3)));
  assert.deepEqual(bits(tensor.values), [...patterns]);
});

test("F16 and BF16 tensors decode to the known float32 values", async () => {
  const half = Uint16Array.from([0x3c00, 0xc000, 0x7bff, 0x0001, 0x8000, 0x7c00, 0x3555]);
  const bf16 = Uint16Array.from([0x3f80, 0xc000, 0x4049, 0x7f7f, 0x0001, 0xff80]);
  const file = encodeSafetensors([
    { name: "h", dtype: "F16", shape: [7], bytes: new Uint8Array(half.buffer) },
    { name: "b", dtype: "BF16", shape: [2, 3], bytes: new Uint8Array(bf16.buffer) },
  ]);
  for (const chunkBytes of [1, 3, 1000]) {
    const [h, b] = await collect(streamSafetensors(chunkedBlobSource(file, chunkBytes)));
    assert.equal(h.dtype, "F16");
    assert.deepEqual([...h.values], [1, -2, 65504, 2 ** -24, -0, Infinity, 0.333251953125]);
    assert.ok(Object.is(h.values[4], -0));
    assert.equal(b.dtype, "BF16");
    assert.deepEqual(b.shape, [2, 3]);
    assert.deepEqual([...b.values], [1, -2, 3.140625, 3.3895313892515355e38, 2 ** -133, -Infinity]);
  }
});

test("tensors come in file order (not header order), with empty and scalar tensors", async () => {
  const json = JSON.stringify({
    late: { dtype: "F32", shape: [1], data_offsets: [4, 8] },
    early: { dtype: "F32", shape: [], data_offsets: [0, 4] },
    none: { dtype: "F32", shape: [2, 0], data_offsets: [4, 4] },
  });
  const header = new TextEncoder().encode(json);
  const file = new Uint8Array(8 + header.length + 8);
  const view = new DataView(file.buffer);
  view.setBigUint64(0, BigInt(header.length), true);
  file.set(header, 8);
  view.setFloat32(8 + header.length, 1.5, true);
  view.setFloat32(8 + header.length + 4, -7, true);
  const tensors = await collect(streamSafetensors(chunkedBlobSource(file, 5)));
  assert.deepEqual(tensors.map((t) => [t.name, t.shape, [...t.values]]), [["early", [], [1.5]], ["none", [2, 0], []], ["late", [1], [-7]]]);
});

test("a tensor is handed out as soon as its bytes are in, before the rest of the file is read", async () => {
  const big = new Float32Array(50_000);
  const file = writeSafetensors({ a: { shape: [10], data: new Float32Array(10).fill(1) }, b: { shape: [50_000], data: big } });
  const { source, log } = recorded(chunkedBlobSource(file, 1000));
  const stream = await openSafetensorsStream(source);
  const tensors = stream.tensors();
  const first = await tensors.next();
  assert.equal(first.value?.name, "a");
  assert.ok(log.delivered < 2 * HEADER_PROBE_BYTES && log.delivered < file.length / 2, `read ${log.delivered} of ${file.length} bytes`);
  await tensors.return(undefined);
  assert.ok(log.closed, "stopping early closes the source");
});

test("a file cut short whose size the source does not know fails as truncated, naming the tensor", async () => {
  const file = writeSafetensors({ a: { shape: [100_000], data: new Float32Array(100_000) } });
  const { source } = recorded(chunkedBlobSource(file.slice(0, file.length - 10), 4096), true);
  await assert.rejects(collect(streamSafetensors(source)), (error: Error) => error instanceof CheckpointFormatError && /truncated: the file ends after \d+ bytes, inside tensor "a"/.test(error.message));
});

test("reading the header asks for the first bytes only", async () => {
  const file = writeSafetensors({ a: { shape: [200_000], data: new Float32Array(200_000) } });
  const { source, log } = recorded(chunkedBlobSource(file, 4096));
  const header = await readSafetensorsHeader(source);
  assert.equal(header.tensors[0].name, "a");
  assert.deepEqual(log.reads, [[0, HEADER_PROBE_BYTES]]);
  assert.ok(log.closed);
});

test("a header longer than the first read takes a second read", async () => {
  const names = Array.from({ length: 2000 }, (_, i) => `block.${i}.attention.to_q.weight.with.a.long.name`);
  const file = writeSafetensors(Object.fromEntries(names.map((name) => [name, { shape: [1], data: Float32Array.of(names.indexOf(name)) }])));
  const { source, log } = recorded(chunkedBlobSource(file, 4096));
  const tensors = await collect(streamSafetensors(source));
  assert.equal(tensors.length, 2000);
  assert.equal(log.reads.length, 2);
  assert.deepEqual(log.reads[1][0], HEADER_PROBE_BYTES);
  assert.equal(tensors.find((t) => t.name === names[1234])!.values[0], 1234);
});

test("progress reports bytes, total, rate and time left, ending at the file size", async () => {
  const file = writeSafetensors({ a: { shape: [100_000], data: new Float32Array(100_000) } });
  let clock = 0;
  const reports: DownloadProgress[] = [];
  // The clock advances 50 ms each time the meter reads it, i.e. once per chunk of 1000 bytes: 20 kB/s.
  const tensors = streamSafetensors(chunkedBlobSource(file, 1000), {
    onProgress: (p) => reports.push(p),
    progress: { now: () => (clock += 50), intervalMs: 100 },
  });
  await collect(tensors);
  const chunks = Math.ceil((file.length - HEADER_PROBE_BYTES) / 1000);
  const last = reports.at(-1)!;
  assert.equal(last.receivedBytes, file.length);
  assert.equal(last.totalBytes, file.length);
  assert.equal(last.etaSeconds, 0);
  assert.ok(reports.length > chunks / 4 && reports.length < chunks, `${reports.length} reports for ${chunks} chunks: throttled`);
  for (let i = 1; i < reports.length; i++) assert.ok(reports[i].receivedBytes >= reports[i - 1].receivedBytes);
  const middle = reports[Math.floor(reports.length / 2)];
  assert.ok(Math.abs(middle.bytesPerSecond - 20_000) < 1000, `rate ${middle.bytesPerSecond}`);
  assert.ok(Math.abs(middle.etaSeconds! - (file.length - middle.receivedBytes) / middle.bytesPerSecond) < 1e-9);
});

test("a consumer that throws stops the reading, closes the source and is reported with the tensor's name", async () => {
  const file = writeSafetensors(Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`t${String(i).padStart(2, "0")}`, { shape: [10_000], data: new Float32Array(10_000) }])));
  const { source, log } = recorded(chunkedBlobSource(file, 512));
  const seen: string[] = [];
  const failure = consumeTensors(streamSafetensors(source), (tensor) => {
    seen.push(tensor.name);
    if (tensor.name === "t03") throw new Error("GPU out of memory");
  });
  await assert.rejects(failure, (error: Error) => {
    assert.ok(error instanceof CheckpointConsumerError);
    assert.equal(error.tensorName, "t03");
    assert.match(error.message, /using tensor "t03" failed, so the download was stopped: GPU out of memory/);
    return true;
  });
  assert.deepEqual(seen, ["t00", "t01", "t02", "t03"]);
  assert.ok(log.closed);
  assert.ok(log.delivered < file.length / 2, `read ${log.delivered} of ${file.length} bytes`);
});

test("an abort signal stops the reading with its reason and closes the source", async () => {
  const file = writeSafetensors(Object.fromEntries(Array.from({ length: 10 }, (_, i) => [`t${i}`, { shape: [1000], data: new Float32Array(1000) }])));
  const { source, log } = recorded(chunkedBlobSource(file, 512));
  const controller = new AbortController();
  let count = 0;
  const run = consumeTensors(streamSafetensors(source, { signal: controller.signal }), () => {
    if (++count === 2) controller.abort(new Error("user cancelled"));
  });
  await assert.rejects(run, /user cancelled/);
  assert.ok(log.closed);
  assert.ok(count < 10);
});

test("memory: streaming a 30 MB file holds about one tensor, not the file", async () => {
  const dir = await mkdtemp(join(tmpdir(), "scm-stream-"));
  const path = join(dir, "big.safetensors");
  try {
    // 26 tensors of 1 MB and one of 4 MB, each filled with its own index.
    const specs = Array.from({ length: 27 }, (_, i) => ({ name: `layer.${String(i).padStart(2, "0")}`, dtype: "F32" as const, shape: i === 13 ? [1024, 1024] : [256, 1024] }));
    const layout = layoutSafetensors(specs);
    const largestBytes = 4 * 1024 * 1024;
    const file = await open(path, "w");
    await file.write(layout.prefix);
    for (const [i, spec] of specs.entries()) await file.write(new Uint8Array(new Float32Array(spec.shape[0] * spec.shape[1]).fill(i).buffer));
    await file.close();
    assert.ok(layout.fileSize > 30e6);

    const stream = await openSafetensorsStream(await nodeFileSource(path, { chunkBytes: 256 * 1024 }));
    let index = 0;
    await consumeTensors(stream.tensors(), (tensor) => {
      assert.equal(tensor.values[0], index);
      assert.equal(tensor.values[tensor.values.length - 1], index++);
    });
    assert.equal(index, 27);
    assert.equal(stream.stats.bytesRead, layout.fileSize);
    const peak = stream.stats.peakBufferedBytes;
    assert.ok(peak >= largestBytes, `the instrument sees the largest tensor (${peak})`);
    assert.ok(peak < 2 * largestBytes, `peak ${peak} bytes for a largest tensor of ${largestBytes} and a file of ${layout.fileSize}`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test("the Node file source reads ranges and reports a missing file in one line", async () => {
  const dir = await mkdtemp(join(tmpdir(), "scm-stream-"));
  try {
    const path = join(dir, "w.safetensors");
    const bytes = writeSafetensors({ w: { shape: [3], data: Float32Array.of(1, 2, 3) } });
    const file = await open(path, "w");
    await file.write(bytes);
    await file.close();
    const source = await nodeFileSource(path, { chunkBytes: 5 });
    assert.equal(source.size, bytes.length);
    assert.deepEqual(await source.read(3, 11), bytes.subarray(3, 11));
    assert.deepEqual(await source.read(bytes.length - 2, bytes.length + 50), bytes.subarray(bytes.length - 2));
    const [w] = await collect(streamSafetensors(source));
    assert.deepEqual([...w.values], [1, 2, 3]);
    await assert.rejects(nodeFileSource(join(dir, "missing.safetensors")), /cannot open .*missing\.safetensors: ENOENT/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
