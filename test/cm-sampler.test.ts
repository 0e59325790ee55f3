/**
 * The consistency-model sampler (Song et al. 2023, as diffusers' CMStochasticIterativeScheduler runs it):
 * the σ grid, the EDM boundary scalings, the TrigFlow change of variables, and a 1- and 2-step sample of the
 * tiny "cm" UNet compared with the PyTorch reference (scripts/fixtures/unet2d_reference.py) on the same noise.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import {
  IMAGENET64_TWO_STEP, OPENAI_CM_SCHEDULE, boundaryScalings, cmTimeInput, consistencyDenoise, edmToTrigFlow, karrasSigma,
  sampleConsistencyModel, seededNormalNoise, sigmasForTimesteps, toUnitPixels, type CmNetwork, type NoiseSource,
} from "../src/components/pretrained/cm-sampler.ts";
import { diffuse, SIGMA_D, SIGMA_MAX, T_MAX } from "../src/components/trigflow/trigflow.ts";
import { createRng, normalArray } from "../src/components/math/rng.ts";
import { UNet2DModel } from "../src/components/pretrained/unet2d/model.ts";
import { compare, readUnetFixture } from "./fixtures/unet2d/fixtures.ts";
import { assertClose } from "./helpers.ts";

await tf.setBackend("cpu");

test("σ grid: timesteps [22, 0] of 40 (CD) give σ = 80 then 1.38237; [106, 0] of 201 (CT) give 80 then 1.91284", () => {
  const fixture = readUnetFixture("cm");
  const reference = fixture.stats.cm_sigmas!;
  const cd = sigmasForTimesteps(IMAGENET64_TWO_STEP.cd.timesteps, IMAGENET64_TWO_STEP.cd.numTrainTimesteps);
  assertClose(cd, reference, 1e-12, "CD sigmas vs the Python reference");
  assertClose(cd, [80, 1.3823679566], 1e-9, "CD sigmas");
  assertClose(cd.map(cmTimeInput), [1095.5067, 80.9495], 1e-3, "time inputs 250·ln σ (doc: 1095.5 then 80.9)");
  assertClose(Array.from(fixture.reference.cm_time_inputs.data), cd.map(cmTimeInput), 1e-4, "time inputs vs the reference");
  const ct = sigmasForTimesteps(IMAGENET64_TWO_STEP.ct.timesteps, IMAGENET64_TWO_STEP.ct.numTrainTimesteps);
  assertClose(ct, [80, 1.9128436207], 1e-9, "CT sigmas (doc: ≈1.913)");
  assertClose(karrasSigma(1), OPENAI_CM_SCHEDULE.sigmaMin, 1e-15, "ramp 1 is σmin");
  assert.deepEqual(sigmasForTimesteps([0], 40), [80]);
  assert.throws(() => sigmasForTimesteps([0, 22], 40), /descending/);
  assert.throws(() => sigmasForTimesteps([40], 40), /below num_train_timesteps 40/);
});

test("boundary condition: c_skip(σmin) = 1 and c_out(σmin) = 0, so f(x, σmin) = x", () => {
  const { cSkip, cOut, cIn } = boundaryScalings(OPENAI_CM_SCHEDULE.sigmaMin);
  assert.equal(cSkip, 1);
  assert.equal(cOut, 0);
  assertClose(cIn, 1 / Math.sqrt(0.002 ** 2 + 0.25), 1e-15);
  const x = tf.tensor4d([0.3, -0.7, 0.1, 0.9], [1, 2, 2, 1]);
  const network: CmNetwork = (xIn) => tf.mul(xIn, 1000) as tf.Tensor4D;
  const out = consistencyDenoise(network, x, OPENAI_CM_SCHEDULE.sigmaMin, null);
  assertClose(out.dataSync(), x.dataSync(), 0);
  tf.dispose([x, out]);
});

test("EDM ↔ TrigFlow: t = arctan(σ/σd), x_t = cos t·x_σ is TrigFlow's cos t·x0 + sin t·z with z = σd·ε; the scalings map to cos²t, cos t/σd, σd sin t", () => {
  const rng = createRng(11);
  const x0 = normalArray(rng, 64, 0.5);
  const eps = normalArray(rng, 64);
  for (const sigma of [0.002, 0.3, 1.3823679566, 5, 80]) {
    const { t, inputScale } = edmToTrigFlow(sigma);
    assertClose(SIGMA_D * Math.tan(t), sigma, 1e-12 * sigma, "σ = σd tan t");
    const edm = x0.map((v, i) => inputScale * (v + sigma * eps[i]));
    const trig = diffuse(x0, eps.map((e) => SIGMA_D * e), t);
    assertClose(edm, trig, 1e-12, `x_t at σ = ${sigma}`);
    // EDM's scalings (no σmin shift: σmin = 0) in TrigFlow form
    const { cSkip, cOut, cIn } = boundaryScalings(sigma, { ...OPENAI_CM_SCHEDULE, sigmaMin: 0 });
    assertClose(cSkip, Math.cos(t) ** 2, 1e-12);
    assertClose(cIn, Math.cos(t) / SIGMA_D, 1e-12);
    assertClose(cOut, SIGMA_D * Math.sin(t), 1e-12);
  }
  // σmax = 80 is sCM Lab's t_max
  assertClose(edmToTrigFlow(SIGMA_MAX).t, T_MAX, 1e-15);
});

test("seeded noise: one stream per seed, standard normal, the same in every run", () => {
  const a = seededNormalNoise(5)([2, 4, 4, 3]);
  const b = seededNormalNoise(5)([2, 4, 4, 3]);
  const c = seededNormalNoise(6)([2, 4, 4, 3]);
  assert.deepEqual(Array.from(a.dataSync()), Array.from(b.dataSync()));
  assert.notDeepEqual(Array.from(a.dataSync()), Array.from(c.dataSync()));
  const bigTensor = seededNormalNoise(1)([4, 32, 32, 3]);
  const big = bigTensor.dataSync() as Float32Array;
  const mean = big.reduce((s, v) => s + v, 0) / big.length;
  const variance = big.reduce((s, v) => s + (v - mean) ** 2, 0) / big.length;
  assert.ok(Math.abs(mean) < 0.05 && Math.abs(variance - 1) < 0.05, `mean ${mean}, variance ${variance}`);
  tf.dispose([a, b, c, bigTensor]);
});

test("1-step and 2-step samples of the tiny cm UNet match the PyTorch reference on the same noise", async () => {
  const f = readUnetFixture("cm");
  const model = new UNet2DModel(f.config);
  await model.load(f.weights);
  const labels = Array.from(f.reference.class_labels.data);
  const shape = f.reference.cm_z0.shape as [number, number, number, number];
  const fixtureNoise = (): NoiseSource => {
    const draws = [f.reference.cm_z0, f.reference.cm_z1];
    return (s) => {
      const next = draws.shift();
      if (!next) throw new Error("the sampler drew more noise than the reference");
      assert.deepEqual(s, next.shape);
      return tf.tensor4d(next.data, s);
    };
  };
  const net: CmNetwork = (xIn, timeInput, y) => model.forward(xIn, timeInput, y);
  const before = tf.memory().numTensors;
  const steps: number[] = [];
  const oneStep = sampleConsistencyModel(net, { sigmas: [80], shape, classLabels: labels, noise: fixtureNoise() });
  const twoStep = sampleConsistencyModel(net, {
    sigmas: sigmasForTimesteps([22, 0], 40), shape, classLabels: labels, noise: fixtureNoise(), onStep: (i) => steps.push(i),
  });
  assert.deepEqual(steps, [0, 1]);
  assert.equal(tf.memory().numTensors, before + 2, "only the two samples remain");
  // The UNet test's float32 budget (3e-6 of the scale) applied to the pre-clamp scale c_out·max|F| ≈ 0.5·5.2 ≈ 2.6
  // gives 8e-6; the bound is 5e-6. Measured: 1.5e-6 (1 step), 1.1e-6 (2 steps). The clamp to [−1, 1] acts on ~7% of the pixels.
  for (const [got, want, label] of [[oneStep, f.reference.cm_one_step, "1-step"], [twoStep, f.reference.cm_two_step, "2-step"]] as const) {
    const { maxAbs } = compare(got.dataSync(), want.data);
    assert.ok(maxAbs <= 5e-6, `${label}: max |TF.js − torch| = ${maxAbs}`);
    const values = got.dataSync();
    assert.ok(values.some((v) => v === 1 || v === -1), `${label}: the clamp was exercised`);
  }
  const pixels = toUnitPixels(twoStep);
  const p = pixels.dataSync();
  assert.ok(p.every((v) => v >= 0 && v <= 1));
  assertClose(p[0], twoStep.dataSync()[0] / 2 + 0.5, 1e-7);
  tf.dispose([oneStep, twoStep, pixels]);
  model.dispose();
});

test("a seeded sample is reproducible, and a different seed gives a different one", () => {
  // A linear stand-in network keeps this fast: F = 0.5·x_in.
  const net: CmNetwork = (xIn) => tf.mul(xIn, 0.5) as tf.Tensor4D;
  const options = { sigmas: sigmasForTimesteps([22, 0], 40), shape: [1, 4, 4, 3] as [number, number, number, number], classLabels: null };
  const a = sampleConsistencyModel(net, { ...options, seed: 3 });
  const b = sampleConsistencyModel(net, { ...options, seed: 3 });
  const c = sampleConsistencyModel(net, { ...options, seed: 4 });
  assert.deepEqual(Array.from(a.dataSync()), Array.from(b.dataSync()));
  assert.notDeepEqual(Array.from(a.dataSync()), Array.from(c.dataSync()));
  assert.throws(() => sampleConsistencyModel(net, { ...options, sigmas: [1, 80] }), /noise levels must decrease/);
  tf.dispose([a, b, c]);
});
