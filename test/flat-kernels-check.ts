/**
 * Checks of training/flat-kernels.ts on whatever TF.js backend is active (test/flat-kernels.test.ts runs them on
 * CPU and WASM, test/webgpu/flat-kernels-webgpu.test.ts on WebGPU): exact equality with the composed ops, since
 * the kernels only move values.
 */
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { flatten, unflatten } from "../src/components/training/flat-kernels.ts";
import { createRng, normalArray } from "../src/components/math/rng.ts";

const rng = createRng(3);
export const FLAT_SHAPES = [[2, 3], [4], [1, 2, 2, 1], [1]];
const random = (shape: number[]) => tf.tensor(Float32Array.from(normalArray(rng, shape.reduce((a, b) => a * b, 1), 1)), shape);

/** flatten = concat of the reshaped tensors, unflatten its inverse, each one kernel. */
export async function checkValues(): Promise<void> {
  const tensors = FLAT_SHAPES.map(random);
  const composed = tf.concat(tensors.map((t) => tf.reshape(t, [-1])));
  const profile = await tf.profile(() => {
    const flat = flatten(tensors);
    return [flat, ...unflatten(flat, FLAT_SHAPES)];
  });
  assert.deepEqual(profile.kernels.map((k) => k.name), ["ScmFlatten", "ScmUnflatten"]);
  const [flat, ...pieces] = profile.result as tf.Tensor[];
  assert.deepEqual(Array.from(await flat.data()), Array.from(await composed.data()));
  for (const [i, piece] of pieces.entries()) {
    assert.deepEqual(piece.shape, FLAT_SHAPES[i]);
    assert.deepEqual(Array.from(await piece.data()), Array.from(await tensors[i].data()));
  }
  tf.dispose([...tensors, composed, flat, ...pieces]);
}

/** Once their inputs are disposed, the backend holds no more data than before. */
export async function checkNoLeaks(): Promise<void> {
  const before = { tensors: tf.memory().numTensors, bytes: tf.memory().numBytes, dataIds: tf.engine().backend.numDataIds() };
  for (let i = 0; i < 5; i++) {
    // fresh inputs each time: a reference the kernels kept on a reshaped input would keep its data alive
    const tensors = FLAT_SHAPES.map(random);
    const pieces = tf.tidy(() => unflatten(flatten(tensors), FLAT_SHAPES));
    await Promise.all(pieces.map((p) => p.data()));
    tf.dispose([...tensors, ...pieces]);
  }
  assert.deepEqual({ tensors: tf.memory().numTensors, bytes: tf.memory().numBytes, dataIds: tf.engine().backend.numDataIds() }, before);
}

/** Each is the other's transpose: gradients against the composed ops. */
export async function checkGradients(): Promise<void> {
  const tensors = FLAT_SHAPES.map(random);
  const weights = random([15]);
  // d/dxᵢ Σ w ⊙ flatten(x) = w's piece for xᵢ, reshaped
  const grads = tf.grads((...xs: tf.Tensor[]) => tf.sum(tf.mul(flatten(xs), weights)))(tensors);
  const expected = tf.grads((...xs: tf.Tensor[]) => tf.sum(tf.mul(tf.concat(xs.map((x) => tf.reshape(x, [-1]))), weights)))(tensors);
  for (const [i, g] of grads.entries()) assert.deepEqual(Array.from(await g.data()), Array.from(await expected[i].data()), `input ${i}`);
  // d/dv Σᵢ Σ cᵢ ⊙ unflatten(v)ᵢ = flatten(c), also when a piece does not reach the loss (its gradient is 0)
  const coefficients = FLAT_SHAPES.map(random);
  const [dv] = tf.grads((v: tf.Tensor) => tf.addN(unflatten(v as tf.Tensor1D, FLAT_SHAPES).map((p, i) => (i === 1 ? tf.scalar(0) : tf.sum(tf.mul(p, coefficients[i]))))))([weights]);
  const want = tf.concat(coefficients.map((c, i) => tf.reshape(i === 1 ? tf.zerosLike(c) : c, [-1])));
  assert.deepEqual(Array.from(await dv.data()), Array.from(await want.data()));
  tf.dispose([...tensors, weights, ...grads, ...expected, ...coefficients, dv, want]);
}
