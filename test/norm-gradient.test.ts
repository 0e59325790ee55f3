import { test } from "node:test";
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { plainAlgebra, plainAlgebraWithNormGradient } from "../src/components/nn/algebra.ts";
import { countKernels } from "../src/components/runtime/kernel-count.ts";

const EPS = 1e-5;
const x = tf.randomNormal([3, 16, 4, 8], 0.3, 2, "float32", 1); // [B, spatial, groups, channels per group]
const weights = tf.randomNormal([3, 16, 4, 8], 0, 1, "float32", 2);
const loss = (alg: typeof plainAlgebra) => (input: tf.Tensor) => tf.sum(tf.mul(alg.normalizeGroups(input, EPS), weights));

test("the written-out gradient of group normalisation equals autodiff's of the composed ops", async () => {
  const value = await plainAlgebraWithNormGradient.normalizeGroups(x, EPS).data();
  assert.deepEqual(value, await plainAlgebra.normalizeGroups(x, EPS).data(), "the forward pass is the same ops");
  const autodiff = await tf.grad(loss(plainAlgebra))(x).data();
  const written = await tf.grad(loss(plainAlgebraWithNormGradient))(x).data();
  // Both are float32 evaluations of the same derivative; they differ by round-off of O(n·u·|r·dy|): n = 128
  // elements per group, u = 6e-8, |r·dy| ≈ 0.5·3 → a few 1e-6 at most. A wrong term (a missing mean, y·mean(dy·y),
  // or a factor r) changes the gradient by O(1).
  let worst = 0;
  for (let i = 0; i < autodiff.length; i++) worst = Math.max(worst, Math.abs(autodiff[i] - written[i]));
  assert.ok(worst < 1e-5, `max difference ${worst}`);
  const scale = Math.max(...Array.from(autodiff, Math.abs));
  assert.ok(scale > 0.1, `the gradient is not trivially small (${scale})`);
});

test("its second derivative flows through x: a Hessian-vector product matches autodiff's", async () => {
  const v = tf.randomNormal(x.shape, 0, 1, "float32", 3);
  const hvp = (alg: typeof plainAlgebra) => tf.grad((input: tf.Tensor) => tf.sum(tf.mul(tf.grad(loss(alg))(input), v)))(x);
  const autodiff = await hvp(plainAlgebra).data();
  const written = await hvp(plainAlgebraWithNormGradient).data();
  let worst = 0;
  let scale = 0;
  for (let i = 0; i < autodiff.length; i++) {
    worst = Math.max(worst, Math.abs(autodiff[i] - written[i]));
    scale = Math.max(scale, Math.abs(autodiff[i]));
  }
  assert.ok(scale > 0.01, `second derivative not trivially small (${scale})`);
  assert.ok(worst < 1e-4 * scale + 1e-6, `max difference ${worst} at scale ${scale}`);
});

test("forward and backward take about half the TF.js kernels of autodiff through the composed ops", async () => {
  const count = async (normalize: (input: tf.Tensor) => tf.Tensor) =>
    (await countKernels(() => tf.tidy(() => void tf.grad((input: tf.Tensor) => tf.sum(tf.mul(normalize(input), weights)))(x)))).total;
  // The loss around the norm (a product, a sum and their gradients) is counted once and taken off both.
  const around = await count((input) => input);
  const composed = (await count((input) => plainAlgebra.normalizeGroups(input, EPS))) - around;
  const written = (await count((input) => plainAlgebraWithNormGradient.normalizeGroups(input, EPS))) - around;
  console.log(`# kernels for one group norm's forward + backward: autodiff ${composed}, written out ${written}`);
  assert.ok(written <= 0.6 * composed, `${written} vs ${composed}`);
});
