import { test } from "node:test";
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { scmTrainingStep, type ScmStepConfig } from "../src/components/training/scm-step.ts";
import { scmLoss, scmTargets } from "../src/components/objectives/scm.ts";
import { diffusionLoss } from "../src/components/objectives/diffusion.ts";
import { TimeConditionedMlp } from "../src/components/nn/mlp.ts";
import { createMixture, sampleMixture } from "../src/components/trigflow/gaussian-mixture.ts";
import { createRng, normalArray } from "../src/components/math/rng.ts";
import { sampleTime } from "../src/components/trigflow/time-proposal.ts";
import { EDM_PROPOSAL } from "../src/components/objectives/diffusion.ts";
import { SIGMA_D } from "../src/components/trigflow/trigflow.ts";
import { assertClose } from "./helpers.ts";

await tf.setBackend("cpu");
const mix = createMixture([[0.5, 0.5], [-0.5, -0.5]], 0.1);
const small = () => new TimeConditionedMlp({ hidden: 32, blocks: 1, groups: 4, timeEmbedding: { kind: "positional", dim: 16 }, dropout: 0.1, seed: 4 });

function batch(rng: ReturnType<typeof createRng>, n: number) {
  return {
    x0: tf.tensor2d(Float32Array.from(sampleMixture(mix, n, rng).points), [n, 2]),
    z: tf.tensor2d(Float32Array.from(normalArray(rng, 2 * n, SIGMA_D)), [n, 2]),
    t: tf.tensor1d(Float32Array.from({ length: n }, () => sampleTime(rng, EDM_PROPOSAL))),
  };
}

const sct: ScmStepConfig = { objective: "sct", normalization: { kind: "l2", c: 0.1 }, warmupIterations: 10, adaptiveWeighting: true };

test("F_θ and F⁻ come from the same pass: the step's loss is exactly e^w‖g‖²/D − w (here w = 0 at init)", () => {
  const net = small();
  const data = batch(createRng(1), 32);
  const targets = scmTargets(net, data, 5, 123, { ...sct, objective: "sct" });
  const expected = scmLoss(targets.Fminus, targets.Fminus, targets.g, tf.zeros([32])).dataSync()[0];
  const { loss } = scmTrainingStep(net, tf.train.adam(1e-3), data, 5, 123, sct);
  // With a different dropout mask F − F⁻ ≠ 0 and the loss would be larger by ‖F − F⁻‖²/D.
  assertClose(loss.dataSync()[0], expected, 1e-6 * Math.max(1, expected));
  net.dispose();
});

test("sCT and sCD steps leak no tensors over 50 steps", () => {
  const net = small();
  const teacher = small();
  const optimizer = tf.train.adam(1e-3);
  const rng = createRng(2);
  for (const config of [sct, { ...sct, objective: "scd", teacher } as ScmStepConfig]) {
    const warm = batch(rng, 16);
    tf.dispose(Object.values(scmTrainingStep(net, optimizer, warm, 0, 0, config)));
    tf.dispose(Object.values(warm));
    const before = tf.memory().numTensors;
    for (let i = 1; i <= 50; i++) {
      const data = batch(rng, 16);
      tf.dispose(Object.values(scmTrainingStep(net, optimizer, data, i, i, config)));
      tf.dispose(Object.values(data));
    }
    assert.equal(tf.memory().numTensors, before, `${config.objective} leaked`);
  }
  net.dispose();
  teacher.dispose();
});

test("with r = 0 the sCT step is diffusion training: the diffusion loss falls (the sign of g is right)", () => {
  // At r = 0, g = −cos²t·(σd F⁻ − v_t): regressing F onto F⁻ + g moves σd F toward v_t. A sign slip
  // (F⁻ − g) would push it away and raise the loss instead.
  const net = small();
  const optimizer = tf.train.adam(3e-3);
  const rng = createRng(3);
  const evalBatch = batch(createRng(99), 512);
  const evalLoss = () => diffusionLoss(net, evalBatch.x0, evalBatch.z, evalBatch.t).dataSync()[0];
  const before = evalLoss();
  const config: ScmStepConfig = { objective: "sct", normalization: { kind: "off" }, warmupIterations: 1e12, adaptiveWeighting: false };
  for (let i = 0; i < 150; i++) {
    const data = batch(rng, 128);
    tf.dispose(Object.values(scmTrainingStep(net, optimizer, data, i, i, config)));
    tf.dispose(Object.values(data));
  }
  const after = evalLoss();
  assert.ok(after < 0.9 * before, `diffusion loss ${before} → ${after}`);
  net.dispose();
});
