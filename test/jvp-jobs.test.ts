import { test } from "node:test";
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import {
  finiteDifferenceJob, halfPrecisionJob, halfPrecisionJvpTerm, profilesJob, timeDerivativeProfile, trainedProfilesJob,
  type DemoNetwork, type FiniteDifferenceParams, type HalfPrecisionParams, type ProfileParams, type TrainedProfileParams,
} from "../src/components/jobs/jvp-jobs.ts";
import { JobControl } from "../src/components/jobs/job-control.ts";
import { serveJob, type JobReply } from "../src/components/jobs/serve-job.ts";
import { TimeConditionedMlp } from "../src/components/nn/mlp.ts";
import { mixturePreset } from "../src/components/toy/mixture-presets.ts";
import { createMixture, sampleMixture } from "../src/components/trigflow/gaussian-mixture.ts";
import { createRng, normalArray } from "../src/components/math/rng.ts";
import { SIGMA_D } from "../src/components/trigflow/trigflow.ts";

await tf.setBackend("cpu");

/** Run a job to its end: its progress reports and its result. */
async function drain<P, R>(job: AsyncGenerator<P, R>): Promise<{ progress: P[]; result: R }> {
  const progress: P[] = [];
  for (;;) {
    const { value, done } = await job.next();
    if (done) return { progress, result: value };
    progress.push(value);
  }
}

const network: DemoNetwork = { hidden: 16, blocks: 1, seed: 2, timeEmbedding: { kind: "positional", dim: 16 } };
const ring = mixturePreset("ring", { modes: 6, spread: 0.08 });
const mixture = { means: ring.means, stds: ring.stds, weights: ring.weights };

test("profiles job: one profile per c_noise, the library's numbers, no tensor left behind", async () => {
  const params: ProfileParams = { cNoiseKinds: ["identity", "logSigma"], network, inputs: Array.from(normalArray(createRng(4), 8)), times: [0.1, 0.8, 1.5] };
  const before = tf.memory().numTensors;
  const { progress, result } = await drain(profilesJob(params));
  assert.equal(tf.memory().numTensors, before, "tensors leaked");
  assert.deepEqual(progress, [{ done: 1, of: 2 }, { done: 2, of: 2 }]);
  assert.equal(result.backend, "cpu");
  assert.equal(result.rows.length, 6);
  // The same network and inputs through the library function directly.
  const net = new TimeConditionedMlp({ ...network, cNoise: "logSigma", outputGain: 1 });
  const u = tf.tensor2d(params.inputs, [4, 2]);
  const direct = await timeDerivativeProfile(net, u, params.times);
  net.dispose();
  u.dispose();
  assert.deepEqual(result.rows.filter((r) => r.cNoise === "logSigma").map((r) => r.value), direct.map((r) => r.value));
});

test("fp16 job: data from the mixture's own weights and spreads (sampleMixture), both forms, no leak", async () => {
  // One mode only (weight 1), far from the origin, with a wide spread: data not drawn with these weights and
  // this spread would give other numbers than the recomputation below.
  const lopsided = { means: [[3, 0], [-3, 0]], stds: [0.5, 0.01], weights: [1, 0] };
  const params: HalfPrecisionParams = { mixture: lopsided, samples: 8, dataSeed: 5, cNoise: "logSigma", network: { ...network, timeEmbedding: { kind: "fourier", dim: 16, fourierScale: 16 } }, times: [0.01, 0.7, 1.5705] };
  const before = tf.memory().numTensors;
  const { progress, result } = await drain(halfPrecisionJob(params));
  assert.equal(tf.memory().numTensors, before, "tensors leaked");
  assert.equal(progress.length, 2);
  assert.deepEqual(result.rows.map((r) => r.form), ["naive", "naive", "naive", "rearranged", "rearranged", "rearranged"]);
  const rng = createRng(5);
  const sample = sampleMixture(createMixture(lopsided.means, lopsided.stds, lopsided.weights), 8, rng);
  assert.ok(Array.from(sample.components).every((k) => k === 0), "the zero-weight mode is never drawn");
  const x0 = tf.tensor2d(Float32Array.from(sample.points), [8, 2]);
  const z = tf.tensor2d(Float32Array.from(normalArray(rng, 16, SIGMA_D)), [8, 2]);
  const net = new TimeConditionedMlp({ ...params.network, cNoise: "logSigma", outputGain: 1 });
  const direct = await halfPrecisionJvpTerm(net, x0, z, params.times, "rearranged");
  tf.dispose([x0, z]);
  net.dispose();
  assert.deepEqual(result.rows.filter((r) => r.form === "rearranged"), direct);
});

test("finite-difference job: U-shaped error over ε, no leak", async () => {
  const params: FiniteDifferenceParams = { cNoise: "identity", network, t: 0.8, points: 8, inputSeed: 8, tangentSeed: 9, epsilons: [1e-6, 1e-3, 0.3] };
  const before = tf.memory().numTensors;
  const { progress, result } = await drain(finiteDifferenceJob(params));
  assert.equal(tf.memory().numTensors, before, "tensors leaked");
  assert.equal(progress.length, 0);
  const [small, middle, large] = result.rows.map((r) => r.error);
  assert.ok(middle < small / 10 && middle < large / 10, `errors ${small}, ${middle}, ${large}`);
});

const trainParams: TrainedProfileParams = {
  mixture, cNoiseKinds: ["identity", "scaled1000"], timeEmbedding: { kind: "positional", dim: 16 },
  network: { hidden: 16, blocks: 1, seed: 0 }, steps: 40, batch: 32, inputs: [0.1, 0.2, -0.3, 0.4], times: [0.5, 1],
};

test("trained-profiles job: progress every step per network, every 20th a milestone, then both profiles; no leak", async () => {
  const before = tf.memory().numTensors;
  const { progress, result } = await drain(trainedProfilesJob(trainParams));
  assert.equal(tf.memory().numTensors, before, "tensors leaked");
  const steps = Array.from({ length: 40 }, (_, i) => i + 1);
  assert.deepEqual(progress.map((p) => `${p.cNoise}:${p.step}`), ["identity", "scaled1000"].flatMap((cNoise) => steps.map((step) => `${cNoise}:${step}`)));
  assert.deepEqual(progress.filter((p) => p.milestone).map((p) => `${p.cNoise}:${p.step}`), ["identity:20", "identity:40", "scaled1000:20", "scaled1000:40"]);
  assert.equal(result.length, 4);
  assert.ok(result.every((r) => Number.isFinite(r.value) && r.value > 0));
});

test("trained-profiles job served with Stop: ends early with what it has, no leak", async () => {
  const before = tf.memory().numTensors;
  const control = new JobControl();
  const replies: JobReply[] = [];
  await serveJob({ type: "start", id: 1, job: "trainedProfiles", params: trainParams }, (reply) => {
    replies.push(reply);
    if (reply.type === "progress") control.stop();
  }, control, 0);
  assert.equal(tf.memory().numTensors, before, "tensors leaked");
  assert.deepEqual(replies.map((r) => r.type), ["progress", "done"]);
  assert.deepEqual((replies[1] as { result: unknown }).result, []);
});
