import { test } from "node:test";
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { sampleOneStep, sampleTwoStep, sampleMultistep, consistencyFromNetwork } from "../src/components/trigflow/consistency-sampling.ts";
import { createMixture, idealConsistencyFunction, exactFlowNetwork } from "../src/components/trigflow/gaussian-mixture.ts";
import { arrayOps } from "../src/components/math/linear-ops.ts";
import { tensorOps } from "../src/components/nn/tensor-ops.ts";
import { SIGMA_D, T_MAX, T_MID } from "../src/components/trigflow/trigflow.ts";
import { createRng, normalArray } from "../src/components/math/rng.ts";
import { assertClose } from "./helpers.ts";

// 1-D data N(μ, s²): the ideal consistency function is f*(x, t) = μ + s/√v(t)·(x − cos t·μ).
const mu = 1.0;
const s = 0.3;
const data = createMixture([[mu]], s);
const v = (t: number) => Math.cos(t) ** 2 * s * s + Math.sin(t) ** 2 * SIGMA_D ** 2;
const closedForm = (x: Float64Array, t: number) => x.map((xi) => mu + (s / Math.sqrt(v(t))) * (xi - Math.cos(t) * mu));

function meanAndStd(x: Float64Array): [number, number] {
  const m = x.reduce((a, b) => a + b, 0) / x.length;
  return [m, Math.sqrt(x.reduce((a, b) => a + (b - m) ** 2, 0) / x.length)];
}

const n = 20_000;

test("1-step sampling with the ideal f* gives the predicted distribution exactly", () => {
  const z = normalArray(createRng(11), n, SIGMA_D);
  const samples = sampleOneStep(arrayOps, closedForm, z);
  // z stands in for x_{t_max} (App. G.2), so the output is N(μ(1 − s·cos t_max/√v), (s·σd/√v)²): within 0.4% of the data.
  const [m, sd] = meanAndStd(samples);
  const expectedStd = (s * SIGMA_D) / Math.sqrt(v(T_MAX));
  assertClose(m, mu * (1 - (s * Math.cos(T_MAX)) / Math.sqrt(v(T_MAX))), (5 * expectedStd) / Math.sqrt(n), "mean");
  assertClose(sd, expectedStd, (5 * expectedStd) / Math.sqrt(n), "std");
});

test("2-step sampling re-noises with fresh noise at t_mid = 1.1 and recovers the data distribution", () => {
  const rng = createRng(12);
  const z = normalArray(rng, n, SIGMA_D);
  let noiseCalls = 0;
  const samples = sampleTwoStep(arrayOps, closedForm, z, () => (noiseCalls++, normalArray(rng, n, SIGMA_D)));
  assert.equal(noiseCalls, 1);
  const [m, sd] = meanAndStd(samples);
  assertClose(m, mu, (5 * s) / Math.sqrt(n), "mean");
  assertClose(sd, s, (5 * s) / Math.sqrt(n), "std");
  assert.equal(T_MID, 1.1);
});

test("sampling is reproducible from a seed and keeps the sample's shape", () => {
  const mix = createMixture([[0.5, 0.5], [-0.5, -0.5]], 0.1);
  const f = idealConsistencyFunction(mix, SIGMA_D, { rtol: 1e-6, atol: 1e-8 });
  const run = (seed: number) => {
    const rng = createRng(seed);
    return sampleMultistep(arrayOps, f, normalArray(rng, 16, SIGMA_D), [T_MAX, 1.1, 0.5], () => normalArray(rng, 16, SIGMA_D));
  };
  const a = run(5);
  assert.equal(a.length, 16);
  assert.deepEqual(a, run(5));
  assert.notDeepEqual(a, run(6));
  assert.throws(() => sampleMultistep(arrayOps, f, a, [0.5, 1.1], () => a), /must decrease/);
});

test("a network F becomes a consistency function by Eq. 5, with f(x, 0) = x", () => {
  const f = consistencyFromNetwork(arrayOps, exactFlowNetwork(data));
  const x = Float64Array.from([0.2, 1.4, -0.3]);
  assertClose(f(x, 0), x, 0);
  // One Eq.-5 step from t is not the ideal f* (that needs the whole ODE), except at t = 0.
  assert.ok(arrayOps.maxAbs(arrayOps.combine([[1, f(x, 1.2)], [-1, closedForm(x, 1.2)]])) > 1e-3);
});

test("tensor sampling matches array sampling and leaks no tensors", () => {
  const F = (u: tf.Tensor, t: number) => tf.mul(u, -0.5 * Math.sin(t));
  const Farr = (u: Float64Array, t: number) => u.map((ui) => -0.5 * Math.sin(t) * ui);
  const z = Float64Array.from([0.1, -0.4, 0.9]);
  const fresh = Float64Array.from([0.3, 0.2, -0.1]);
  const before = tf.memory().numTensors;
  const out = tf.tidy(() =>
    sampleTwoStep(tensorOps, consistencyFromNetwork(tensorOps, F), tf.tensor1d(Array.from(z)), () => tf.tensor1d(Array.from(fresh))).arraySync() as number[],
  );
  assert.equal(tf.memory().numTensors, before);
  const expected = sampleTwoStep(arrayOps, consistencyFromNetwork(arrayOps, Farr), z, () => fresh);
  assertClose(out, expected, 1e-6);
});
