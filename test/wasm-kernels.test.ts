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
      // concatenations: short rows (the time embedding's [cos, sin]), long rows, axis 0, int32, bool, an empty part
      tf.concat([tf.slice(m, [0, 0], [6, 3]), m, tf.slice(m, [0, 1], [6, 1])], 1),
      tf.concat([flat.reshape([10, 100]), flat.reshape([10, 100])], 1),
      tf.concat([m, m, tf.slice(m, [0, 0], [2, 7])], 0),
      tf.concat([x, x], 3),
      tf.concat([tf.cast(m, "int32"), tf.cast(m, "int32")], 1),
      tf.concat([tf.greater(m, 0), tf.less(m, 0)], -1),
      tf.concat([m, tf.zeros([6, 0])], 1),
      tf.clone(m),
    ];
  });
}

test("the fast WASM slices, splits, concatenations and identities are bit-identical to TF.js's own, and copy only each piece", async () => {
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

test("the WASM identity shares its input's memory and keeps it alive until both are disposed", async () => {
  useFastWasmKernels(true);
  const backend = tf.engine().backend;
  const x = tf.tensor1d([1, 2, 3]);
  const before = backend.numDataIds();
  const copy = tf.clone(x);
  assert.equal(backend.numDataIds(), before, "no new memory");
  x.dispose();
  assert.deepEqual(Array.from(await copy.data()), [1, 2, 3]);
  copy.dispose();
  assert.equal(backend.numDataIds(), before - 1, "freed with the last reference");
  useFastWasmKernels(false);
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

/** aᵀ? · bᵀ? in float64 from float32 inputs, and Σ|a_ik·b_kj| for the round-off bound. */
function referenceProduct(a: Float32Array, b: Float32Array, [m, k, n]: number[], transposeA: boolean, transposeB: boolean) {
  const product = new Float64Array(m * n);
  const magnitude = new Float64Array(m * n);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      for (let l = 0; l < k; l++) {
        const term = a[transposeA ? l * m + i : i * k + l] * b[transposeB ? j * k + l : l * n + j];
        product[i * n + j] += term;
        magnitude[i * n + j] += Math.abs(term);
      }
    }
  }
  return { product, magnitude };
}

test("the WASM matmul hands the backend untransposed products and stays within float32 round-off of the exact one", async () => {
  useFastWasmKernels(false);
  // A spy in place of TF.js's own kernel, so the fast kernel wraps it: it records the transposes the backend sees.
  const original = tf.getKernel("BatchMatMul", "wasm")!;
  const seen: string[] = [];
  tf.unregisterKernel("BatchMatMul", "wasm");
  tf.registerKernel({
    ...original,
    kernelFunc: (args) => {
      const { transposeA, transposeB } = args.attrs as { transposeA: boolean; transposeB: boolean };
      seen.push(`${transposeA}/${transposeB}`);
      return original.kernelFunc(args);
    },
  });
  try {
    useFastWasmKernels(true);
    // The dense layer's three products at the toy MLP's shapes: forward x·W, ∂x = dy·Wᵀ, ∂W = xᵀ·dy; and aᵀ·bᵀ.
    const [m, k, n] = [512, 64, 32];
    for (const [transposeA, transposeB] of [[false, false], [false, true], [true, false], [true, true]]) {
      const a = tf.randomNormal(transposeA ? [k, m] : [m, k], 0, 1, "float32", 4);
      const b = tf.randomNormal(transposeB ? [n, k] : [k, n], 0, 1, "float32", 5);
      const before = tf.engine().backend.numDataIds();
      const c = tf.matMul(a, b, transposeA, transposeB);
      assert.equal(tf.engine().backend.numDataIds(), before + 1, "only the product is left on the backend");
      assert.deepEqual(c.shape, [m, n]);
      const { product, magnitude } = referenceProduct(await a.data() as Float32Array, await b.data() as Float32Array, [m, k, n], transposeA, transposeB);
      const values = await c.data();
      // Any summation order of k float32 products: |error| ≤ γ_k·Σ|a_ik·b_kj|, γ_k = k·u/(1 − k·u), u = 2⁻²⁴.
      const gamma = (k * 2 ** -24) / (1 - k * 2 ** -24);
      for (let i = 0; i < values.length; i++) assert.ok(Math.abs(values[i] - product[i]) <= gamma * magnitude[i], `${transposeA}/${transposeB} element ${i}: ${values[i]} vs ${product[i]}`);
      tf.dispose([a, b, c]);
    }
    assert.deepEqual(seen, ["false/false", "false/false", "false/false", "false/false"]);
    // Batched products (XNNPACK's path takes one at a time) go to the backend as they came.
    seen.length = 0;
    tf.tidy(() => tf.matMul(tf.ones([2, 3, 4]), tf.ones([2, 5, 4]), false, true));
    assert.deepEqual(seen, ["false/true"]);
  } finally {
    useFastWasmKernels(false);
    tf.unregisterKernel("BatchMatMul", "wasm");
    tf.registerKernel(original);
  }
});
