import { test } from "node:test";
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { TIME_BINS, TrainingDiagnostics } from "../src/components/training/diagnostics.ts";
import { minimizeMeasuringGradient } from "../src/components/training/measured-step.ts";
import { ToyRun } from "../src/components/toy/toy-run.ts";
import { DEFAULT_TOY_RUN } from "../src/components/toy/toy-run-config.ts";
import { createMixture } from "../src/components/trigflow/gaussian-mixture.ts";

await tf.setBackend("cpu");

test("diagnostics: gradient-norm mean and variance over a window, ‖g‖ binned by t, reset after take()", () => {
  const d = new TrainingDiagnostics();
  d.record(1, 2, [0.01, 0.02, 1.5], [1, 3, 10]);
  d.record(3, 4, [Math.PI / 2], [7]);
  const s = d.take();
  assert.equal(s.steps, 2);
  assert.equal(s.meanLoss, 2);
  assert.equal(s.gradientNormMean, 3);
  assert.equal(s.gradientNormVariance, 1); // values 2 and 4
  const first = s.tangentNormByTime[0];
  assert.equal(first.t0, 0);
  assert.equal(first.count, 2);
  assert.equal(first.meanNorm, 2);
  assert.equal(first.maxNorm, 3);
  // t = π/2 falls in the last bin, not past it.
  const last = s.tangentNormByTime.at(-1)!;
  assert.ok(Math.abs(last.t1 - Math.PI / 2) < 1e-12);
  assert.equal(last.maxNorm, 10, "t = 1.5 and t = π/2 share the last bin");
  assert.equal(last.count, 2);
  assert.equal(d.take().steps, 0);
  assert.ok(s.tangentNormByTime.every((b) => b.t1 - b.t0 - Math.PI / 2 / TIME_BINS < 1e-12));
});

test("the measured step applies the same update as minimize and reports ‖∇L‖₂", () => {
  // L(a, b) = (a − 1)² + 2(b + 2)²  at a = 3, b = 0: ∇L = (4, 8), ‖∇L‖ = √80.
  const a = tf.variable(tf.scalar(3));
  const b = tf.variable(tf.scalar(0));
  const loss = () => tf.add(tf.square(tf.sub(a, 1)), tf.mul(2, tf.square(tf.add(b, 2)))) as tf.Scalar;
  const { loss: value, gradientNorm } = minimizeMeasuringGradient(tf.train.sgd(0.1), loss, [a, b]);
  assert.equal(value.dataSync()[0], 4 + 8);
  assert.ok(Math.abs(gradientNorm.dataSync()[0] - Math.sqrt(80)) < 1e-5);
  assert.ok(Math.abs(a.dataSync()[0] - (3 - 0.4)) < 1e-6);
  assert.ok(Math.abs(b.dataSync()[0] - (0 - 0.8)) < 1e-6);
  tf.dispose([a, b, value, gradientNorm]);
});

test("an sCT run reports gradient norms and ‖g‖ by time; the teacher reports no tangent", async () => {
  const mixture = createMixture([[0.5, 0.5], [-0.5, -0.5]], 0.1);
  const config = { ...DEFAULT_TOY_RUN, network: { hidden: 16, blocks: 1, groups: 4, timeEmbedding: { kind: "positional" as const, dim: 8 } }, batch: 64 };
  const teacher = new ToyRun(mixture, { ...config, objective: "teacher" });
  const report = await teacher.step();
  assert.ok(report.gradientNorm > 0 && report.meanTangentNorm === null);
  assert.equal(teacher.takeDiagnostics().tangentNormByTime.length, 0);
  const student = new ToyRun(mixture, { ...config, objective: "sct" }, teacher.ema);
  for (let i = 0; i < 3; i++) await student.step();
  const s = student.takeDiagnostics();
  assert.equal(s.steps, 3);
  assert.equal(s.tangentNormByTime.reduce((n, b) => n + b.count, 0), 3 * 64, "every sample lands in one bin");
  assert.ok(s.gradientNormMean > 0 && s.gradientNormVariance >= 0);
  teacher.dispose();
  student.dispose();
});
