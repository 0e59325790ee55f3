/**
 * The written-out gradient of group normalisation (nn/algebra.ts) on TF.js's WebGPU backend (Dawn, see setup.ts):
 * equal to autodiff's through the composed ops to float32 round-off, and fewer GPU programs launched.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import "@tensorflow/tfjs-backend-webgpu";
import { plainAlgebra, plainAlgebraWithNormGradient } from "../../src/components/nn/algebra.ts";
import { countKernels } from "../../src/components/runtime/kernel-count.ts";

test("WebGPU: the written-out group-norm gradient equals autodiff's and launches fewer programs", async () => {
  await tf.setBackend("webgpu");
  await tf.ready();
  const x = tf.randomNormal([2, 64, 8, 4], 0.3, 2, "float32", 1);
  const weights = tf.randomNormal(x.shape, 0, 1, "float32", 2);
  const gradient = (alg: typeof plainAlgebra) => tf.grad((input: tf.Tensor) => tf.sum(tf.mul(alg.normalizeGroups(input, 1e-5), weights)));
  const autodiff = gradient(plainAlgebra)(x);
  const written = gradient(plainAlgebraWithNormGradient)(x);
  const [a, w] = [await autodiff.data(), await written.data()];
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - w[i]));
  // As on the CPU (test/norm-gradient.test.ts): a few 1e-6 of round-off; a wrong term would be O(1).
  assert.ok(worst < 1e-5, `max difference ${worst}`);
  const dispatches = async (alg: typeof plainAlgebra) => (await countKernels(() => tf.tidy(() => void gradient(alg)(x)))).dispatches!;
  const [before, after] = [await dispatches(plainAlgebra), await dispatches(plainAlgebraWithNormGradient)];
  console.log(`# GPU programs for one group norm's forward + backward (with the loss around it): autodiff ${before}, written out ${after}`);
  assert.ok(after < before, `${after} vs ${before}`);
  tf.dispose([x, weights, autodiff, written]);
});
