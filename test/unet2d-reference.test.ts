/**
 * The TF.js UNet2DModel against an independent PyTorch implementation (scripts/fixtures/unet2d_reference.py),
 * on three tiny configs that together use every supported block type and option.
 *
 * Tolerance: the reference is computed in float64 from exactly the float32 weights and inputs stored in the
 * fixture, so the only error is TF.js's float32 rounding through a few hundred ops (convolutions with fan-in
 * up to 216, ~40 group norms, softmax attention, skip concatenations). Measured on the CPU backend: max error
 * 4.1e-7 (cm), 2.6e-7 (plain), 2.1e-7 (small) of the output's largest magnitude; PyTorch's own float32 pass
 * of the same network deviates by up to 1.0e-6 (cm). The bound, 3e-6 of the output's largest magnitude, is three
 * times PyTorch's own float32 deviation, yet small enough to catch a wrong GroupNorm ε (1e-5 vs 1e-6; tested below).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { UNet2DModel } from "../src/components/pretrained/unet2d/model.ts";
import { compare, readUnetFixture, type FixtureName, type UnetFixture } from "./fixtures/unet2d/fixtures.ts";

await tf.setBackend("cpu");

const RELATIVE_TOLERANCE = 3e-6;

async function runFixture(f: UnetFixture, config = f.config, weights = f.weights): Promise<Float32Array> {
  const model = new UNet2DModel(config);
  try {
    await model.load(weights);
    const { x, timesteps, class_labels: labels } = f.reference;
    const input = tf.tensor4d(x.data, x.shape as [number, number, number, number]);
    const out = model.forward(input, timesteps.data, labels ? Array.from(labels.data) : null);
    const values = out.dataSync() as Float32Array;
    input.dispose();
    out.dispose();
    return values;
  } finally {
    model.dispose();
  }
}

for (const name of ["cm", "plain", "small"] as FixtureName[]) {
  test(`${name}: TF.js forward pass matches the PyTorch reference within ${RELATIVE_TOLERANCE} of the output scale, and frees every tensor`, async () => {
    const f = readUnetFixture(name);
    const before = tf.memory().numTensors;
    const model = new UNet2DModel(f.config);
    assert.equal(model.parameterCount, f.stats.parameter_count, "parameter count from the config alone");
    assert.equal(model.parameterCount, f.weights.reduce((n, t) => n + t.values.length, 0), "every stored value is a declared parameter");
    model.dispose();
    const out = await runFixture(f);
    const { maxAbs, scale, relative } = compare(out, f.reference.output.data);
    assert.ok(scale > 0.5, "the reference output is not trivially small");
    assert.ok(relative <= RELATIVE_TOLERANCE, `${name}: max |TF.js − torch| = ${maxAbs} (${relative.toExponential(2)} of ${scale})`);
    assert.equal(tf.memory().numTensors, before, "no tensor outlives dispose()");
  });
}

test("the tolerance has teeth: the cm model run with GroupNorm ε = 1e-6 instead of 1e-5 fails it", async () => {
  const f = readUnetFixture("cm");
  const out = await runFixture(f, { ...f.config, norm_eps: 1e-6 });
  const { relative } = compare(out, f.reference.output.data);
  assert.ok(relative > RELATIVE_TOLERANCE, `a wrong ε moved the output by only ${relative.toExponential(2)} of its scale`);
});

test("old attention names (query/key/value/proj_attn) load to the same network as to_q/to_k/to_v/to_out.0", async () => {
  const f = readUnetFixture("cm");
  const renamed = f.weights.map((t) => ({
    ...t,
    name: t.name.replace(/\.to_q\./, ".query.").replace(/\.to_k\./, ".key.").replace(/\.to_v\./, ".value.").replace(/\.to_out\.0\./, ".proj_attn."),
  }));
  assert.ok(renamed.some((t) => t.name.endsWith("attentions.0.proj_attn.weight")), "the fixture has attention weights to rename");
  const [fresh, old] = [await runFixture(f), await runFixture(f, f.config, renamed)];
  assert.deepEqual(old, fresh);
});

test("forward frees each layer's intermediates: the cm pass peaks at under 2 MB of activations (8 MB if kept to the end)", async () => {
  const f = readUnetFixture("cm");
  const model = new UNet2DModel(f.config);
  await model.load(f.weights);
  const { x, timesteps, class_labels: labels } = f.reference;
  const input = tf.tensor4d(x.data, x.shape as [number, number, number, number]);
  const resident = tf.memory().numBytes;
  const info = await tf.profile(() => model.forward(input, timesteps.data, Array.from(labels.data)));
  // Measured: 0.74 MB above the resident weights and input; one tf.tidy around the whole pass peaked at 7.8 MB.
  assert.ok(info.peakBytes - resident < 2e6, `peak ${info.peakBytes - resident} bytes above the resident ${resident}`);
  tf.dispose([input, info.result as tf.Tensor]);
  model.dispose();
});
