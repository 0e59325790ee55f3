/**
 * Checks of the fused residual (a + b)·s (nn/fused-residual.ts) on whatever backend is active: test/fused-residual.test.ts
 * runs them on CPU, test/webgpu/fused-kernels-webgpu.test.ts on WebGPU. Equality is exact: the kernel rounds the
 * sum and then the product in float32, as tf.add and tf.mul do.
 */
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { fusedScaledAdd } from "../src/components/nn/fused-residual.ts";
import { dualAlgebra, plainAlgebra } from "../src/components/nn/algebra.ts";
import { residual } from "../src/components/nn/layers.ts";
import { createRng, normalArray } from "../src/components/math/rng.ts";

const rng = createRng(12);
const random = (shape: number[]) => tf.tensor(Float32Array.from(normalArray(rng, shape.reduce((a, b) => a * b, 1), 1)), shape);
const values = async (t: tf.Tensor) => Array.from(await t.data());

/** Value, tangent and both gradients against the composed ops, bit for bit, for a few shapes and scales. */
export async function checkScaledAdd(): Promise<void> {
  for (const [shape, scale] of [[[2, 4, 4, 8], Math.SQRT1_2], [[3, 5], 0.3], [[1, 7, 3, 2], 1]] as const) {
    const [a, b, aDot, bDot, dy] = [0, 1, 2, 3, 4].map(() => random([...shape]));
    const composed = (x: tf.Tensor, y: tf.Tensor) => tf.mul(tf.add(x, y), scale);
    const fused = (x: tf.Tensor, y: tf.Tensor) => fusedScaledAdd(x, y, scale)!;
    const what = `[${shape}] × ${scale}`;
    assert.deepEqual(await values(fused(a, b)), await values(composed(a, b)), `${what}: value`);
    // through the algebras, as the networks call it
    const dual = residual(dualAlgebra, { value: a, tangent: aDot }, { value: b, tangent: bDot }, scale);
    assert.deepEqual(await values(dual.value), await values(composed(a, b)), `${what}: dual value`);
    assert.deepEqual(await values(dual.tangent), await values(composed(aDot, bDot)), `${what}: tangent`);
    const gradient = (f: (x: tf.Tensor, y: tf.Tensor) => tf.Tensor) => tf.grads((x: tf.Tensor, y: tf.Tensor) => tf.sum(tf.mul(f(x, y), dy)))([a, b]);
    const [want, got] = [gradient(composed), gradient(fused)];
    for (const i of [0, 1]) assert.deepEqual(await values(got[i]), await values(want[i]), `${what}: gradient of input ${i}`);
    tf.dispose([a, b, aDot, bDot, dy, dual.value, dual.tangent, ...want, ...got]);
  }
}

/** One kernel forward and two for its gradient, saving nothing on the tape; no leaks. */
export async function checkScaledAddKernels(): Promise<void> {
  const [a, b] = [random([2, 3, 3, 4]), random([2, 3, 3, 4])];
  const forward = await tf.profile(() => tf.tidy(() => void residual(plainAlgebra, a, b)));
  assert.deepEqual(forward.kernels.map((k) => k.name), ["ScmScaledAdd"]);
  const withGradient = await tf.profile(() => tf.tidy(() => void tf.grads((x: tf.Tensor, y: tf.Tensor) => residual(plainAlgebra, x, y))([a, b])));
  // nothing saved for the backward pass (no Identity copies); the gradient is dy·s, and a reshape gives b its own tensor
  assert.deepEqual(withGradient.kernels.map((k) => k.name), ["ScmScaledAdd", "Multiply", "Reshape"]);
  const before = tf.memory().numTensors;
  for (let i = 0; i < 3; i++) tf.tidy(() => void tf.grads((x: tf.Tensor, y: tf.Tensor) => residual(plainAlgebra, x, y))([a, b]));
  assert.equal(tf.memory().numTensors, before);
  // Tensors of different shapes (a broadcast) are not the kernel's: the caller composes.
  const row = random([4]);
  assert.equal(fusedScaledAdd(a, row, 0.5), null);
  tf.dispose([a, b, row]);
}
