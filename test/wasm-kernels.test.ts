import { test } from "node:test";
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import "@tensorflow/tfjs-backend-wasm";
import { useFastWasmKernels } from "../src/components/runtime/wasm-kernels.ts";

await tf.setBackend("wasm");

/** Every slice and split case both ways: with TF.js's own WASM kernels and with the fast ones. */
function cases(): tf.Tensor[] {
  return tf.tidy(() => {
    const x = tf.range(0, 2 * 3 * 4 * 5 * 2).reshape([2, 3, 4, 5, 2]);
    const m = tf.randomNormal([6, 7], 0, 1, "float32", 1);
    const flat = tf.randomNormal([1000], 0, 1, "float32", 2);
    return [
      tf.slice(m, [1, 2], [3, 4]), // rows cut across: not contiguous
      tf.slice(m, [2, 0], [3, 7]), // whole rows: contiguous
      tf.slice(x, [1, 0, 1, 2, 0], [1, 3, 2, 3, 2]), // rank 5 (the original falls back to its generic path)
      tf.slice(tf.cast(m, "int32"), [0, 3], [6, 2]),
      tf.slice(tf.greater(m, 0), [1, 1], [2, 5]),
      ...tf.split(flat, [1, 10, 100, 400, 489]), // the fused optimizer's case: a flat vector into parameters
      ...tf.split(m, [2, 5], 1),
      ...tf.split(x, 2, -1),
    ];
  });
}

test("the fast WASM slices and splits are bit-identical to TF.js's own, and copy only each piece", async () => {
  useFastWasmKernels(false);
  const reference = cases();
  useFastWasmKernels(true);
  const backend = tf.backend() as unknown as { readSync(dataId: object): unknown };
  const readSync = backend.readSync;
  let reads = 0;
  backend.readSync = function (this: unknown, ...args: [object]) {
    reads++;
    return readSync.apply(this, args);
  };
  const fast = cases();
  backend.readSync = readSync;
  // TF.js's kernels read (copy) the whole input for each of these slices; the fast ones never do.
  assert.equal(reads, 0, "no whole-tensor copy");
  assert.equal(fast.length, reference.length);
  for (const [i, t] of fast.entries()) {
    assert.deepEqual(t.shape, reference[i].shape);
    assert.equal(t.dtype, reference[i].dtype);
    assert.deepEqual(await t.data(), await reference[i].data(), `case ${i}`);
  }
  tf.dispose([...fast, ...reference]);
  useFastWasmKernels(false);
  useFastWasmKernels(false); // idempotent
});

test("the fast WASM split keeps its pieces valid when allocating them grows the heap", async () => {
  useFastWasmKernels(true);
  // 64 pieces of 1 MB each: the heap grows while the split runs, which detaches views taken before an allocation.
  const big = tf.randomUniform([64 * 262144], 0, 1, "float32", 3);
  const pieces = tf.split(big, 64);
  const first = await big.slice([5 * 262144], [262144]).data();
  assert.deepEqual(await pieces[5].data(), first);
  const last = await pieces[63].data();
  assert.equal(last[262143], (await big.data())[big.size - 1]);
  tf.dispose([big, ...pieces]);
  useFastWasmKernels(false);
});
