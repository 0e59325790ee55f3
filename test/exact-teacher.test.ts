import { test } from "node:test";
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { exactFlowTensor, exactTeacher } from "../src/components/toy/exact-teacher.ts";
import { createMixture, exactFlowNetwork } from "../src/components/trigflow/gaussian-mixture.ts";
import { createRng, normalArray } from "../src/components/math/rng.ts";
import { forward } from "../src/components/nn/network.ts";

// Unequal weights and spreads, off-centre means: a wrong weight, spread or sign changes F* visibly.
const mixture = createMixture([[1.2, -0.4], [-0.8, 0.9], [0.1, 1.5]], [0.08, 0.3, 0.15], [0.5, 0.3, 0.2]);

test("the tensor F* equals the float64 F* of gaussian-mixture.ts across t ∈ (0, π/2)", () => {
  const rng = createRng(3);
  const n = 64;
  const u = normalArray(rng, 2 * n, 1.3);
  const times = Array.from({ length: n }, (_, i) => 0.02 + (i / (n - 1)) * (Math.PI / 2 - 0.04));
  const reference = exactFlowNetwork(mixture);
  const got = tf.tidy(() => exactFlowTensor(mixture, tf.tensor2d(Float32Array.from(u), [n, 2]), tf.tensor1d(times)).dataSync());
  let worst = 0;
  for (let i = 0; i < n; i++) {
    const want = reference(Float64Array.from(u.subarray(2 * i, 2 * i + 2).map((v) => Math.fround(v))), Math.fround(times[i]));
    const scale = Math.max(1, Math.hypot(want[0], want[1]));
    worst = Math.max(worst, Math.hypot(got[2 * i] - want[0], got[2 * i + 1] - want[1]) / scale);
  }
  // float32 against float64: the log-densities reach ~1e2 near t = 0, so softmax weights carry ~1e-5 relative error.
  assert.ok(worst < 1e-4, `worst relative error ${worst}`);
});

test("as a network: plain evaluation only, and no tensors leak", () => {
  const teacher = exactTeacher(mixture);
  const before = tf.memory().numTensors;
  const u = tf.tensor2d([0.5, 0.5, -1, 2], [2, 2]);
  const t = tf.tensor1d([0.4, 1.2]);
  const F = forward(teacher, u, t);
  assert.deepEqual(F.shape, [2, 2]);
  tf.dispose([F, u, t]);
  assert.equal(tf.memory().numTensors, before);
});
