import { test } from "node:test";
import * as tf from "@tensorflow/tfjs";
import { SIGMA_D, conditionalVelocity, consistencyFunction, diffuse } from "../src/components/trigflow/trigflow.ts";
import { consistencyBatch, diffuseBatch, pathVelocityBatch } from "../src/components/trigflow/trigflow-batch.ts";
import { createRng, normalArray } from "../src/components/math/rng.ts";
import { assertClose } from "./helpers.ts";

await tf.setBackend("cpu");

// Three samples of dimension 2, each at its own time: the batch forms must equal the array forms of Eqs. 3–5
// row by row. Tensors are float32, so agreement is to float32 round-off (~1e-7 relative on O(1) values).
const FLOAT32 = 1e-6;
const times = [0.05, 0.8, 1.5];
const rng = createRng(7);
const x0 = normalArray(rng, 6, 0.7);
const z = normalArray(rng, 6, SIGMA_D);
const F = normalArray(rng, 6, 1);
const row = (a: ArrayLike<number>, i: number) => [a[2 * i], a[2 * i + 1]];
const tensor = (a: ArrayLike<number>) => tf.tensor2d(Float32Array.from(a), [3, 2]);

function rowsOf(compute: () => tf.Tensor): Float32Array {
  return tf.tidy(compute).dataSync() as Float32Array;
}

test("diffuseBatch is Eq. 3 with one time per sample", () => {
  const out = rowsOf(() => diffuseBatch(tensor(x0), tensor(z), tf.tensor1d(times)));
  times.forEach((t, i) => assertClose(row(out, i), diffuse(row(x0, i), row(z, i), t), FLOAT32, `t=${t}`));
});

test("pathVelocityBatch is Eq. 4 (cos t·z − sin t·x0, not the reverse) with one time per sample", () => {
  const out = rowsOf(() => pathVelocityBatch(tensor(x0), tensor(z), tf.tensor1d(times)));
  times.forEach((t, i) => assertClose(row(out, i), conditionalVelocity(row(x0, i), row(z, i), t), FLOAT32, `t=${t}`));
});

test("consistencyBatch is Eq. 5 (cos t·x_t − σd sin t·F) and keeps σd", () => {
  const xt = diffuse(x0, z, 0.3);
  for (const sigmaD of [SIGMA_D, 1.3]) {
    const out = rowsOf(() => consistencyBatch(tensor(xt), tensor(F), tf.tensor1d(times), sigmaD));
    times.forEach((t, i) => assertClose(row(out, i), consistencyFunction(row(xt, i), row(F, i), t, sigmaD), FLOAT32, `t=${t}, σd=${sigmaD}`));
  }
});
