import { test } from "node:test";
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { discreteTangent, discreteTimeGrid, teacherDdimStep } from "../src/components/objectives/discrete.ts";
import { scmJvpTangents, scmTangent } from "../src/components/objectives/scm.ts";
import { perSample } from "../src/components/trigflow/trigflow-batch.ts";
import { TimeConditionedMlp } from "../src/components/nn/mlp.ts";
import { forward, jvp } from "../src/components/nn/network.ts";
import { SIGMA_D, T_MAX } from "../src/components/trigflow/trigflow.ts";
import { assertClose } from "./helpers.ts";

await tf.setBackend("cpu");
const B = 6;
const xt = tf.randomNormal([B, 2], 0, 0.7, "float32", 1);
const t = tf.tensor1d([0.3, 0.5, 0.7, 0.9, 1.1, 1.3]);

test("the Karras grid runs from σ_min to σ_max = 80 in TrigFlow time", () => {
  const grid = discreteTimeGrid(16);
  assert.equal(grid.length, 17);
  assertClose(grid[0], Math.atan(0.002 / SIGMA_D), 1e-12);
  assertClose(grid[16], T_MAX, 1e-12);
  for (let i = 1; i < grid.length; i++) assert.ok(grid[i] > grid[i - 1]);
});

test("Eq. 37 at r = 1 equals [f⁻(x_t,t) − f⁻(x_t',t')]/sin(t − t'), times cos t", () => {
  const tPrime = tf.sub(t, 0.05);
  const [Ft, Ftp, Fpre] = [2, 3, 4].map((seed) => tf.randomNormal([B, 2], 0, 1, "float32", seed));
  const xtp = teacherDdimStep(xt, t, tPrime, Fpre);
  const f = (x: tf.Tensor, s: tf.Tensor, F: tf.Tensor) => tf.sub(tf.mul(perSample(tf.cos(s), 2), x), tf.mul(perSample(tf.mul(tf.sin(s), SIGMA_D), 2), F));
  const expected = tf.mul(perSample(tf.cos(t), 2), tf.div(tf.sub(f(xt, t, Ft), f(xtp, tPrime, Ftp)), perSample(tf.sin(tf.sub(t, tPrime)), 2)));
  const g = discreteTangent({ xt, t, tPrime, FminusAtT: Ft, FminusAtTPrime: Ftp, Fteacher: Fpre, warmup: 1 });
  // Both are O(10) after dividing by sin 0.05; float32 cancellation in the difference costs ~1e-5 relative.
  assertClose(g.dataSync(), expected.dataSync(), 1e-3);
});

test("as the step shrinks, the discrete tangent converges (first order) to the continuous sCD tangent", () => {
  const student = new TimeConditionedMlp({ outputGain: 1, seed: 5 });
  const teacher = new TimeConditionedMlp({ outputGain: 1, seed: 6 });
  const u = tf.div(xt, SIGMA_D);
  const Fpre = forward(teacher, u, t);
  const dxdt = tf.mul(Fpre, SIGMA_D);
  const { uDot, tDot } = scmJvpTangents(dxdt, t);
  const { value: Fminus, tangent } = jvp(student, u, t, uDot, tDot);
  const continuous = scmTangent({ xt, t, dxdt, Fminus, jvp: tangent, warmup: 1 });
  const errorAt = (step: number) => {
    const tPrime = tf.sub(t, step);
    const xtp = teacherDdimStep(xt, t, tPrime, Fpre);
    const g = discreteTangent({ xt, t, tPrime, FminusAtT: Fminus, FminusAtTPrime: forward(student, tf.div(xtp, SIGMA_D), tPrime), Fteacher: Fpre, warmup: 1 });
    return tf.max(tf.abs(tf.sub(g, continuous))).dataSync()[0];
  };
  const coarse = errorAt(0.04);
  const fine = errorAt(0.004);
  // First order: ten times smaller steps give about ten times smaller error (float32 round-off ~1e-4 at 0.004).
  assert.ok(fine < coarse / 5, `error ${coarse} at Δt = 0.04, ${fine} at 0.004`);
  assert.ok(fine < 0.05 * Math.max(1, tf.max(tf.abs(continuous)).dataSync()[0]), `fine error ${fine}`);
  student.dispose();
  teacher.dispose();
});

test("the discretised proposal sums to one and puts its median where the continuous one does", async () => {
  const { discreteTimeProbabilities, normalCdf } = await import("../src/components/objectives/discrete.ts");
  const { SCM_CIFAR10_PROPOSAL, timeFromStandardNormal } = await import("../src/components/trigflow/time-proposal.ts");
  assertClose([normalCdf(0), normalCdf(1.959964), normalCdf(-1)], [0.5, 0.975, 0.15865525], 2e-7);
  const grid = discreteTimeGrid(1024);
  const p = discreteTimeProbabilities(grid, SCM_CIFAR10_PROPOSAL);
  assertClose(p.reduce((a, b) => a + b, 0), 1, 1e-12);
  let cumulative = 0;
  const median = grid[1 + p.findIndex((pi) => (cumulative += pi) >= 0.5)];
  assertClose(median, timeFromStandardNormal(0, SCM_CIFAR10_PROPOSAL), 0.01); // grid spacing near t = 0.63 is < 0.01 at N = 1024
});
