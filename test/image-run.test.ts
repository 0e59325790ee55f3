import { test } from "node:test";
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { ImageDataset } from "../src/components/image/image-dataset.ts";
import { ImageRun } from "../src/components/image/image-run.ts";
import { defaultImageRunConfig, UNET_PRESETS, type ImageRunConfig } from "../src/components/image/image-run-config.ts";
import { NonFiniteLossError } from "../src/components/training/trainer.ts";
import { createRng } from "../src/components/math/rng.ts";

await tf.setBackend("cpu");

/** 8×8 RGB images of two classes: smooth gradients, so a few steps of training visibly lower the loss. */
function syntheticDataset(): ImageDataset {
  const shape = { height: 8, width: 8, channels: 3 };
  const data = new ImageDataset([0, 1], shape, 16);
  const rng = createRng(5);
  for (const label of [0, 1]) {
    const bytes = new Uint8Array(16 * 8 * 8 * 3);
    for (let i = 0; i < bytes.length; i++) bytes[i] = Math.floor(label * 120 + 100 * rng.uniform());
    data.append(label, bytes);
  }
  return data;
}

const tiny = (objective: "teacher" | "sct" | "scd"): ImageRunConfig => {
  const base = defaultImageRunConfig(objective, "tiny");
  return { ...base, batch: 4, network: { ...base.network, resolution: 8, baseChannels: 8, timeEmbedding: { kind: "positional", dim: 8 } }, scm: { ...base.scm, warmupIterations: 2 } };
};

test("teacher, sCT and sCD steps run on images and return finite losses", async () => {
  const data = syntheticDataset();
  const teacher = new ImageRun(data, tiny("teacher"));
  for (let i = 0; i < 3; i++) assert.ok(Number.isFinite((await teacher.step()).loss));
  for (const objective of ["sct", "scd"] as const) {
    const run = new ImageRun(data, tiny(objective), teacher.ema);
    // sCD's first step has g = 0 exactly: the student starts as the teacher and the warm-up's r is 0.
    await run.step();
    const report = await run.step();
    assert.ok(Number.isFinite(report.loss) && report.gradientNorm > 0 && report.meanTangentNorm! > 0, `${objective}: ${JSON.stringify(report)}`);
    run.dispose();
  }
  teacher.dispose();
});

test("numTensors stays flat over 20 image training steps (sCT with dropout, adaptive weighting, RAdam)", async () => {
  const data = syntheticDataset();
  const run = new ImageRun(data, tiny("sct"));
  await run.step();
  const before = tf.memory().numTensors;
  for (let i = 0; i < 20; i++) await run.step();
  assert.equal(tf.memory().numTensors, before);
  const s = await run.samples(2, 1, 2);
  assert.equal(tf.memory().numTensors, before);
  assert.equal(s.oneStep.length, 2 * 8 * 8 * 3);
  assert.equal(s.ode, null, "sCT from scratch has no teacher to solve the ODE of");
  await run.state();
  assert.equal(tf.memory().numTensors, before);
  run.dispose();
});

test("a saved state resumes bit for bit: 6 steps equal 3 steps, save, restore into a new run, 3 steps", async () => {
  const data = syntheticDataset();
  for (const objective of ["teacher", "sct"] as const) {
    const config = tiny(objective);
    const straight = new ImageRun(data, config);
    const paused = new ImageRun(data, config);
    for (let i = 0; i < 3; i++) {
      await straight.step();
      await paused.step();
    }
    const state = await straight.state();
    const resumed = new ImageRun(data, config);
    await resumed.restore(state);
    // Resumed runs draw batches from a seed derived from the step; give the uninterrupted run the same draws.
    await paused.restore(await paused.state());
    for (let i = 0; i < 3; i++) {
      await resumed.step();
      await paused.step();
    }
    const a = await resumed.state();
    const b = await paused.state();
    assert.equal(a.iteration, 6);
    for (const name of Object.keys(a.ema)) assert.deepEqual(a.ema[name].data, b.ema[name].data, `${objective}: ${name}`);
    assert.deepEqual(a.optimizer.map((o) => o.data), b.optimizer.map((o) => o.data));
    [straight, paused, resumed].forEach((r) => r.dispose());
  }
});

test("a NaN weight stops training with a message and the last good weights come back", async () => {
  const data = syntheticDataset();
  const run = new ImageRun(data, tiny("teacher"));
  for (let i = 0; i < 2; i++) await run.step();
  const name = run.net.params.names().find((n) => n.endsWith("conv0.weight"))!;
  tf.tidy(() => run.net.params.get(name).assign(tf.fill(run.net.params.get(name).shape, NaN)));
  await assert.rejects(run.step(), (error: Error) => error instanceof NonFiniteLossError && /restored/.test(error.message));
  // The guard restores its last snapshot (taken at step 0 here), which holds only finite values, and training goes on.
  const restored = await run.state();
  assert.ok(Object.values(restored.net).every((p) => p.data.every(Number.isFinite)));
  assert.ok(Number.isFinite((await run.step()).loss));
  run.dispose();
});

test("the presets grow: tiny < small < base parameters", async () => {
  const { unetParameterCount } = await import("../src/components/image/image-run.ts");
  const counts = (["tiny", "small", "base"] as const).map((p) => unetParameterCount(UNET_PRESETS[p]));
  assert.ok(counts[0] < counts[1] && counts[1] < counts[2], counts.join(" "));
  console.log("parameters:", counts.join(", "));
});

test("a training checkpoint file round-trips bit for bit, and a model file reads back as a model", async () => {
  const { writeTrainingCheckpoint, readTrainingFile, writeModel } = await import("../src/components/image/image-checkpoint.ts");
  const data = syntheticDataset();
  const teacherConfig = tiny("teacher");
  const teacher = new ImageRun(data, teacherConfig);
  await teacher.step();
  const config = tiny("sct");
  const run = new ImageRun(data, config, teacher.ema);
  for (let i = 0; i < 2; i++) await run.step();
  const state = await run.state();
  const teacherWeights = await teacher.ema.params.save();
  const plan = (c: ImageRunConfig, steps: number) => ({ config: { ...c, network: run.net.config }, steps });
  const bytes = writeTrainingCheckpoint({ phase: "student", classes: [0, 1], teacher: plan(teacherConfig, 1), student: plan(config, 10), state, teacherWeights });
  const file = readTrainingFile(bytes);
  assert.equal(file.kind, "training");
  if (file.kind !== "training") return;
  const c = file.checkpoint;
  assert.equal(c.state.iteration, 2);
  assert.deepEqual(c.classes, [0, 1]);
  assert.deepEqual(c.student!.config, { ...config, network: run.net.config });
  for (const group of ["net", "ema"] as const) for (const [name, w] of Object.entries(state[group])) assert.deepEqual(c.state[group][name].data, w.data, name);
  for (const [name, w] of Object.entries(teacherWeights)) assert.deepEqual(c.teacherWeights![name].data, w.data, name);
  assert.deepEqual(c.state.optimizer.map((o) => o.name), state.optimizer.map((o) => o.name));
  assert.deepEqual(c.state.optimizer.map((o) => o.data), state.optimizer.map((o) => o.data));
  // Restoring the read state into a new run continues exactly like restoring the original.
  const a = new ImageRun(data, config, teacher.ema);
  const b = new ImageRun(data, config, teacher.ema);
  await a.restore(c.state);
  await b.restore(state);
  assert.equal((await a.step()).loss, (await b.step()).loss);

  const model = readTrainingFile(writeModel(run.ema.config, state.ema));
  assert.equal(model.kind, "model");
  assert.throws(() => readTrainingFile(writeModel(run.ema.config, state.ema).slice(0, 100)), /./);
  [teacher, run, a, b].forEach((r) => r.dispose());
});

test("a training checkpoint with a tampered plan is refused with a message", async () => {
  const { readTrainingFile, TRAINING_METADATA_KEY } = await import("../src/components/image/image-checkpoint.ts");
  const { writeSafetensors } = await import("../src/components/checkpoint/safetensors.ts");
  const meta = (info: unknown) => writeSafetensors({ "net/x": { shape: [1], data: new Float32Array(1) } }, { [TRAINING_METADATA_KEY]: JSON.stringify(info) });
  const config = { ...tiny("sct"), network: { ...tiny("sct").network } };
  const good = { format: "sCM Lab training checkpoint v1", phase: "student", iteration: 1, classes: [3], teacher: null, student: { config, steps: 5 } };
  assert.throws(() => readTrainingFile(meta({ ...good, format: "v0" })), /unknown training checkpoint format/);
  assert.throws(() => readTrainingFile(meta({ ...good, classes: [12] })), /classes/);
  assert.throws(() => readTrainingFile(meta({ ...good, student: { config: { ...config, batch: 1e9 }, steps: 5 } })), /batch/);
  assert.throws(() => readTrainingFile(meta({ ...good, student: { config: { ...config, objective: "eval" }, steps: 5 } })), /objective/);
  assert.throws(() => readTrainingFile(meta({ ...good, student: null })), /no student plan/);
  assert.throws(() => readTrainingFile(writeSafetensors({ x: { shape: [1], data: new Float32Array(1) } })), /neither an sCM Lab training checkpoint nor/);
});
