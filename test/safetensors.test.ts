import { test } from "node:test";
import assert from "node:assert/strict";
import { CheckpointFormatError, readSafetensors, writeSafetensors } from "../src/components/checkpoint/safetensors.ts";

const tensors = {
  "b.bias": { shape: [3], data: Float32Array.from([1, -2, 3.5]) },
  "a.weight": { shape: [2, 2], data: Float32Array.from([0.25, 0.5, -1e-8, 1e8]) },
};

test("round trip: names, shapes, values and metadata survive; data is 8-byte aligned", () => {
  const bytes = writeSafetensors(tensors, { config: JSON.stringify({ hidden: 64 }) });
  const headerLength = Number(new DataView(bytes.buffer).getBigUint64(0, true));
  assert.equal((8 + headerLength) % 8, 0);
  const back = readSafetensors(bytes);
  assert.deepEqual(back.tensors, tensors);
  assert.deepEqual(JSON.parse(back.metadata.config), { hidden: 64 });
});

test("bad files are refused with one clear message each", () => {
  const good = writeSafetensors(tensors);
  const headerLength = Number(new DataView(good.buffer).getBigUint64(0, true));
  const withHeader = (json: string, dataBytes = 64) => {
    const h = new TextEncoder().encode(json);
    const out = new Uint8Array(8 + h.length + dataBytes);
    new DataView(out.buffer).setBigUint64(0, BigInt(h.length), true);
    out.set(h, 8);
    return out;
  };
  const cases: [Uint8Array, RegExp][] = [
    [good.slice(0, 5), /only 5 bytes/],
    [good.slice(0, 8 + headerLength + 10), /truncated/],
    [new TextEncoder().encode("<!DOCTYPE html><html>error</html>"), /HTML page/],
    [withHeader("{not json"), /header is not JSON/],
    [withHeader('{"x": {"dtype": "F16", "shape": [1], "data_offsets": [0, 2]}}', 2), /dtype F16/],
    [withHeader('{"x": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}, "y": {"dtype": "F32", "shape": [1], "data_offsets": [8, 12]}}', 12), /hole of 4 bytes after tensor "x"/],
    [withHeader('{"x": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}}', 6), /2 bytes after its last tensor/],
    [withHeader('[{"x": 1}]'), /header is JSON but an array, not an object/],
    [withHeader('{"x": {"dtype": "F32", "shape": [2], "data_offsets": [0, 4]}}'), /needs 8 bytes/],
    [withHeader('{"x": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}, "y": {"dtype": "F32", "shape": [1], "data_offsets": [2, 6]}}'), /overlap/],
    [withHeader('{"x": {"dtype": "F32", "shape": [100], "data_offsets": [0, 400]}}'), /ends at byte 400/],
  ];
  for (const [bytes, message] of cases) assert.throws(() => readSafetensors(bytes), (e: unknown) => e instanceof CheckpointFormatError && message.test(e.message));
});
