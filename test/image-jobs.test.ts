import "fake-indexeddb/auto";
import { test } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import * as tf from "@tensorflow/tfjs";
import { imageTrainJob, type ImageTrainParams, type ImageTrainProgress } from "../src/components/jobs/image-jobs.ts";
import { defaultImageRunConfig, type ImageRunConfig } from "../src/components/image/image-run-config.ts";
import { DEFAULT_UNET_CONFIG } from "../src/components/nn/unet-config.ts";
import { JobControl } from "../src/components/jobs/job-control.ts";
import { checkpointSummary } from "../src/components/image/checkpoint-store.ts";
import { createRng } from "../src/components/math/rng.ts";
import { MAX_QUEUED_STEPS, READ_BACK_TARGET_MS, stepsPerReadBack } from "../src/components/training/read-back-interval.ts";

await tf.setBackend("cpu");

const PER_CLASS = 12;
const files = Array.from({ length: 10 }, (_, c) => {
  const rng = createRng(c);
  return Uint8Array.from({ length: PER_CLASS * 3072 }, () => Math.floor(c * 20 + 50 * rng.uniform()));
});
const sha = (b: Uint8Array) => createHash("sha256").update(b).digest("hex");
const meta = {
  source: "synthetic", classes: ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"], imageShape: [32, 32, 3],
  perClass: files.map(() => PER_CLASS), files: files.map((_, c) => `class-${c}.bin`), sha256: Object.fromEntries(files.map((b, c) => [`class-${c}.bin`, sha(b)])), testLabelCounts: files.map(() => 0),
};

/** Serves meta.json and the class files from memory in chunks of 5000 bytes (so images arrive split across chunks). */
function fakeFetch(overrides: Record<string, Uint8Array> = {}) {
  return async (url: string): Promise<Response> => {
    if (url === "mem:meta.json") return new Response(JSON.stringify(meta));
    const name = url.slice(4);
    const bytes = overrides[name] ?? files[Number(/class-(\d)\.bin/.exec(name)?.[1])];
    if (!bytes) return new Response("not found", { status: 404 });
    let offset = 0;
    return new Response(new ReadableStream({ pull(controller) {
      if (offset >= bytes.length) return controller.close();
      controller.enqueue(bytes.slice(offset, offset + 5000));
      offset += 5000;
    } }));
  };
}

const network = { ...DEFAULT_UNET_CONFIG, baseChannels: 4, channelMult: [1, 2], attentionResolutions: [], timeEmbedding: { kind: "positional" as const, dim: 8 } };
const plan = (objective: "teacher" | "sct" | "scd", steps: number) => {
  const c = defaultImageRunConfig(objective, "tiny");
  return { config: { ...c, batch: 2, network: { ...network, dropout: c.network.dropout! }, scm: { ...c.scm, warmupIterations: 2 } } as ImageRunConfig & { network: typeof network }, steps };
};
const params = (overrides: Partial<ImageTrainParams> = {}): ImageTrainParams => ({
  data: { meta: "mem:meta.json", classFiles: files.map((_, c) => `mem:class-${c}.bin`) },
  classes: [3, 5], teacher: plan("teacher", 2), student: plan("scd", 2),
  sampleEvery: 2, sampleCount: 2, odeSteps: 2, autosave: { key: "test-run", everySteps: 1 }, minImagesPerClass: 4, ...overrides,
});

/** Every step the job reported, in order (a "steps" report carries the steps read back together). */
const stepsOf = (reports: ImageTrainProgress[]) => reports.flatMap((r) => (r.kind === "steps" ? r.reports.map((s) => ({ ...s, phase: r.phase, imagesPerSecond: r.imagesPerSecond })) : []));

async function drain(job: AsyncGenerator<ImageTrainProgress, unknown>) {
  const reports: ImageTrainProgress[] = [];
  for (;;) {
    const { value, done } = await job.next();
    if (done) return { reports, result: value };
    reports.push(value);
  }
}

test("the CIFAR-10 job streams the classes, trains teacher then sCD, samples, autosaves, and leaks no tensor", async () => {
  const before = tf.memory().numTensors;
  const { reports, result } = await drain(imageTrainJob(params(), () => false, undefined, fakeFetch()));
  assert.deepEqual(result, { phase: "student", iteration: 2, stopped: false });
  const phases = reports.filter((r) => r.kind === "phase");
  assert.deepEqual(phases.map((p) => p.kind === "phase" && p.phase), ["teacher", "student"]);
  const steps = stepsOf(reports);
  assert.deepEqual(steps.map((s) => [s.phase, s.iteration]), [["teacher", 1], ["teacher", 2], ["student", 1], ["student", 2]]);
  for (const s of steps) assert.ok(Number.isFinite(s.loss) && s.stepMs > 0 && s.imagesPerSecond > 0);
  const grids = reports.flatMap((r) => (r.kind === "samples" ? [r] : []));
  const student = grids.filter((g) => g.phase === "student").at(-1)!;
  assert.equal(student.samples.oneStep.length, 2 * 3072);
  assert.ok(student.samples.ode, "sCD shows its teacher's ODE samples from the same noise");
  const summary = await checkpointSummary("test-run");
  assert.equal(summary?.phase, "student");
  assert.equal(summary?.iteration, 2);
  assert.match(summary!.label, /sCD.*cat \+ dog/);
  assert.equal(tf.memory().numTensors, before);
});

test("the steps do not depend on the sample grids: one image or several, every loss is the same (e2e references draw one)", async () => {
  const losses = async (sampleCount: number) =>
    (await drain(imageTrainJob(params({ sampleCount, sampleEvery: 1, autosave: null }), () => false, undefined, fakeFetch()))).reports.flatMap((r) => (r.kind === "steps" ? r.reports.map((s) => [s.loss, s.gradientNorm]) : []));
  assert.deepEqual(await losses(1), await losses(3));
});

test("a saved run resumes from IndexedDB where it stopped, teacher included", async () => {
  // The previous test left the run at step 2 of its 2-step sCD phase. A resumed run follows the plan saved with it
  // (the parameters' plan is ignored), reloads the teacher's weights from the file, and has nothing left to do.
  const { reports, result } = await drain(imageTrainJob(params({ resume: { key: "test-run" }, student: null }), () => false, undefined, fakeFetch()));
  assert.deepEqual(result, { phase: "student", iteration: 2, stopped: false });
  const phase = reports.find((r) => r.kind === "phase");
  assert.ok(phase && phase.kind === "phase" && phase.startIteration === 2);
});

test("commands: export the model and the checkpoint while paused, then stop with an autosave", async () => {
  const control = new JobControl();
  const job = imageTrainJob(params({ autosave: { key: "paused-run", everySteps: 1000 }, teacher: plan("teacher", 50) }), () => control.isStopped, control, fakeFetch());
  let report: ImageTrainProgress;
  do report = (await job.next()).value as ImageTrainProgress; while (report.kind !== "steps");
  control.pause();
  control.command("export-model");
  control.command("export-checkpoint");
  const exported: string[] = [];
  for (let i = 0; i < 3; i++) {
    const r = (await job.next()).value as ImageTrainProgress;
    assert.notEqual(r.kind, "steps", "a paused job does not train");
    if (r.kind === "file") exported.push(`${r.what}:${r.fileName}`);
  }
  assert.deepEqual(exported, ["model:scm-lab-teacher-ema-step1.safetensors", "checkpoint:scm-lab-teacher-step1.safetensors"]);
  control.stop();
  const rest = await drain(job);
  assert.deepEqual(rest.result, { phase: "teacher", iteration: 1, stopped: true });
  assert.ok(rest.reports.some((r) => r.kind === "saved"));
  assert.equal((await checkpointSummary("paused-run"))?.iteration, 1);
});

test("a damaged class file stops the job with a message naming it", async () => {
  const damaged = files[5].slice();
  damaged[100] ^= 1;
  await assert.rejects(drain(imageTrainJob(params({ teacher: plan("teacher", 50) }), () => false, undefined, fakeFetch({ "class-5.bin": damaged }))), /class-5\.bin \(dog\).*SHA-256/);
  await assert.rejects(drain(imageTrainJob(params(), () => false, undefined, fakeFetch({ "class-3.bin": files[3].slice(0, 3072 * 3 + 7) }))), /class-3\.bin \(cat\)/);
});

test("a run whose teacher came from a model file resumes with that teacher (sCD needs it)", async () => {
  const { writeModel } = await import("../src/components/image/image-checkpoint.ts");
  const { SmallUNet } = await import("../src/components/nn/unet.ts");
  const teacherNet = new SmallUNet(network);
  const teacherModel = writeModel(teacherNet.config, await teacherNet.params.save());
  teacherNet.dispose();
  let steps = 0;
  const first = await drain(
    (async function* () {
      const job = imageTrainJob(params({ teacher: null, student: plan("scd", 2), teacherModel, autosave: { key: "file-teacher", everySteps: 1 } }), () => steps >= 1, undefined, fakeFetch());
      for await (const r of job) {
        if (r.kind === "steps") steps += r.reports.length;
        yield r;
      }
    })(),
  );
  assert.equal((await checkpointSummary("file-teacher"))?.iteration, 1);
  assert.equal(stepsOf(first.reports).length, 1);
  const { result, reports } = await drain(imageTrainJob(params({ resume: { key: "file-teacher" } }), () => false, undefined, fakeFetch()));
  assert.deepEqual(result, { phase: "student", iteration: 2, stopped: false });
  const grid = reports.flatMap((r) => (r.kind === "samples" ? [r] : [])).at(-1)!;
  assert.ok(grid.samples.ode, "the file's teacher is back: its ODE row is drawn");
});

test("a checkpoint made for another resolution is refused by the page's job with a message", async () => {
  const small = plan("teacher", 2);
  small.config.network = { ...small.config.network, resolution: 8 };
  await assert.rejects(drain(imageTrainJob(params({ teacher: small }), () => false, undefined, fakeFetch())), /made for 8×8 images/);
});

test("fast steps are read back several at a time, and every sample grid and save comes after its steps were read", async () => {
  // A read every 100 s: after the first step (read at once, to measure it) the job queues the most it may.
  const { reports, result } = await drain(imageTrainJob(params({ teacher: plan("teacher", 6), student: null, sampleEvery: 4, autosave: { key: "queued-run", everySteps: 5 }, readBackMs: 1e5 }), () => false, undefined, fakeFetch()));
  assert.deepEqual(result, { phase: "teacher", iteration: 6, stopped: false });
  const sequence = reports.flatMap((r) => (r.kind === "steps" ? [`steps ${r.reports.map((s) => s.iteration).join(",")}`] : r.kind === "samples" ? [`samples ${r.samples.iteration}`] : r.kind === "saved" ? [`saved ${r.iteration}`] : []));
  assert.deepEqual(sequence, ["samples 0", "steps 1", "steps 2,3,4", "samples 4", "steps 5", "saved 5", "steps 6", "samples 6", "saved 6"]);
  const batch = reports.find((r) => r.kind === "steps" && r.reports.length === 3);
  assert.ok(batch && batch.kind === "steps" && batch.reports.every((s) => Number.isFinite(s.loss) && s.stepMs === batch.reports[0].stepMs && s.stepMs > 0));
});

test("a pause while steps are queued reads them first; a stop then saves the checked weights", async () => {
  const control = new JobControl();
  // Once step 1 is reported, the job asks shouldStop() once per step it queues: the pause arrives while steps 2
  // and 3 are queued (unread).
  let checks: number | null = null;
  const shouldStop = () => {
    if (checks !== null && ++checks === 3) control.pause();
    return control.isStopped;
  };
  const job = imageTrainJob(params({ teacher: plan("teacher", 50), student: null, sampleEvery: 100, autosave: { key: "paused-queue", everySteps: 1000 }, readBackMs: 1e5 }), shouldStop, control, fakeFetch());
  const seen: string[] = [];
  for (;;) {
    const r = (await job.next()).value as ImageTrainProgress;
    if (r.kind === "steps") seen.push(`steps ${r.reports.map((s) => s.iteration).join(",")}`);
    if (r.kind === "steps") checks ??= 0;
    if (r.kind === "data" && control.isPaused) break;
  }
  assert.deepEqual(seen, ["steps 1", "steps 2,3"]);
  control.stop();
  const rest = await drain(job);
  assert.deepEqual(rest.result, { phase: "teacher", iteration: 3, stopped: true });
  assert.equal((await checkpointSummary("paused-queue"))?.iteration, 3);
});

test("the read-back interval: as many steps as fit the target, at least 1 and at most the cap; 1 before a measurement", () => {
  assert.equal(stepsPerReadBack(null), 1);
  assert.equal(stepsPerReadBack(Number.NaN), 1);
  assert.equal(stepsPerReadBack(0), 1);
  assert.equal(stepsPerReadBack(2000), 1);
  assert.equal(stepsPerReadBack(READ_BACK_TARGET_MS), 1);
  assert.equal(stepsPerReadBack(READ_BACK_TARGET_MS / 3), 3);
  assert.equal(stepsPerReadBack(READ_BACK_TARGET_MS / 3 + 1), 2);
  assert.equal(stepsPerReadBack(0.01), MAX_QUEUED_STEPS);
  assert.equal(stepsPerReadBack(10, 0), 1, "a target of 0 reads every step");
});
