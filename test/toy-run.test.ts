import { test } from "node:test";
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { NonFiniteLossError, ToyRun } from "../src/components/toy/toy-run.ts";
import { DEFAULT_TOY_RUN, type ToyRunConfig } from "../src/components/toy/toy-run-config.ts";
import { createMixture } from "../src/components/trigflow/gaussian-mixture.ts";

await tf.setBackend("cpu");
// Small enough for TF.js's CPU backend in Node (~20 ms per step).
const mixture = createMixture([[0.5, 0.5], [-0.5, -0.5], [0.5, -0.5], [-0.5, 0.5]], 0.08);
const base: ToyRunConfig = { ...DEFAULT_TOY_RUN, network: { hidden: 32, blocks: 1, groups: 4, timeEmbedding: { kind: "positional", dim: 16 } }, batch: 128, learningRate: 3e-3, emaHalfLife: 2000 };

test("a teacher, then sCT from the teacher: 2-step samples beat the untrained start by a wide margin; tensors stay flat", async () => {
  const untrained = new ToyRun(mixture, { ...base, objective: "sct" });
  const startDistance = untrained.distanceToData(await untrained.sampleConsistency(1000, 2, 5));
  untrained.dispose();

  const teacher = new ToyRun(mixture, { ...base, objective: "teacher" });
  for (let i = 0; i < 300; i++) await teacher.step();
  const teacherDistance = teacher.distanceToData(await teacher.sampleOde(1000, 20, 5));

  const student = new ToyRun(mixture, { ...base, objective: "sct", scm: { ...base.scm, warmupIterations: 50 } }, teacher.ema);
  await student.step();
  const before = tf.memory().numTensors;
  for (let i = 0; i < 200; i++) await student.step();
  assert.equal(tf.memory().numTensors, before, "numTensors flat over 200 sCT steps");
  const twoStep = student.distanceToData(await student.sampleConsistency(1000, 2, 5));
  // Measured: untrained start 0.32 (samples bunched near the origin), teacher's 40-evaluation ODE 0.044,
  // sCT 2-step 0.058 after 200 steps. Asserting < 0.5× the start leaves room for other CPUs' float rounding.
  assert.ok(twoStep < 0.5 * startDistance, `2-step sliced W₂ ${twoStep} vs untrained ${startDistance} (teacher ODE ${teacherDistance})`);
  teacher.dispose();
  student.dispose();
});

test("a non-finite loss stops the run with a clear message and restores the last good weights", async () => {
  const run = new ToyRun(mixture, { ...base, objective: "teacher" });
  const initial = await run.net.params.save();
  await run.step(); // snapshots the initial weights (every 50 steps, starting at 0), then trains
  const name = run.net.params.names().find((n) => n.endsWith("input.weight"))!;
  tf.tidy(() => run.net.params.get(name).assign(tf.fill(run.net.params.get(name).shape, NaN)));
  await assert.rejects(run.step(), (error: unknown) => error instanceof NonFiniteLossError && /loss became NaN; the last good weights were restored/.test(error.message));
  assert.deepEqual(Array.from(run.net.params.get(name).dataSync()), Array.from(initial[name].data), "weights restored");
  // The EMA had averaged one step in; it is back at the snapshot's average too (training/ema.ts keeps it flat).
  const ema = await run.ema.params.save();
  for (const n of Object.keys(initial)) assert.deepEqual(Array.from(ema[n].data), Array.from(initial[n].data), `EMA ${n} restored`);
  run.dispose();
});

test("sCD and the discrete-time CM distil the exact teacher: both beat the untrained start", async () => {
  const { exactTeacher } = await import("../src/components/toy/exact-teacher.ts");
  const teacher = exactTeacher(mixture);
  for (const objective of ["scd", "discrete"] as const) {
    const run = new ToyRun(mixture, { ...base, objective, discreteSteps: 32, scm: { ...base.scm, warmupIterations: 30 } }, teacher);
    const start = run.distanceToData(await run.sampleConsistency(1000, 2, 5));
    const errorBefore = await run.consistencyError([0.5, 1.2], 200, 7);
    for (let i = 0; i < 150; i++) await run.step();
    const end = run.distanceToData(await run.sampleConsistency(1000, 2, 5));
    const errorAfter = await run.consistencyError([0.5, 1.2], 200, 7);
    assert.ok(end < 0.6 * start, `${objective}: 2-step sliced W₂ ${start} → ${end}`);
    // ‖f_θ − f*‖ against the exact ideal consistency function falls at both times.
    errorAfter.forEach((e, i) => assert.ok(e.error < 0.8 * errorBefore[i].error, `${objective} t=${e.t}: ${errorBefore[i].error} → ${e.error}`));
    run.dispose();
  }
});

test("sCD from the exact teacher can start from a trained diffusion model's weights, logvar head reset", async () => {
  const { exactTeacher } = await import("../src/components/toy/exact-teacher.ts");
  const diffusion = new ToyRun(mixture, { ...base, objective: "teacher", seed: 3 });
  for (let i = 0; i < 3; i++) await diffusion.step();
  const run = new ToyRun(mixture, { ...base, objective: "scd" }, exactTeacher(mixture), diffusion.ema);
  const expected = await diffusion.ema.params.save();
  const [own, averaged] = [await run.net.params.save(), await run.ema.params.save()];
  for (const name of run.net.params.names()) {
    const want = run.net.weightHeadNames.includes(name) ? expected[name].data.map(() => 0) : expected[name].data;
    assert.deepEqual(Array.from(own[name].data), Array.from(want), name);
    assert.deepEqual(Array.from(averaged[name].data), Array.from(want), `${name} (EMA)`);
  }
  // Without a start, an exact teacher (no weights) leaves the student at its own initialisation.
  const fresh = new ToyRun(mixture, { ...base, objective: "scd" }, exactTeacher(mixture));
  const name = fresh.net.params.names().find((n) => n.endsWith("input.weight"))!;
  assert.notDeepEqual(Array.from(fresh.net.params.get(name).dataSync()), Array.from(expected[name].data));
  [diffusion, run, fresh].forEach((r) => r.dispose());
});
