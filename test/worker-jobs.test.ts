import { test } from "node:test";
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { JobControl } from "../src/components/jobs/job-control.ts";
import { serveJob, type JobReply } from "../src/components/jobs/serve-job.ts";
import type { TrainedProfileParams } from "../src/components/jobs/jvp-jobs.ts";

/** A control that stops the job after `checks` checkpoints. */
function stopAfter(checks: number): JobControl {
  const control = new JobControl();
  const checkpoint = control.checkpoint.bind(control);
  let count = 0;
  control.checkpoint = async () => {
    if (++count > checks) control.stop();
    return checkpoint();
  };
  return control;
}

await tf.setBackend("cpu");
const params: TrainedProfileParams = {
  mixture: { means: [[0.5, 0], [-0.5, 0]], stds: [0.1, 0.1], weights: [0.5, 0.5] },
  cNoiseKinds: ["identity", "logSigma"],
  timeEmbedding: { kind: "positional", dim: 16 },
  network: { hidden: 16, blocks: 1, seed: 0 },
  steps: 40,
  batch: 32,
  inputs: [0.1, 0.2, -0.3, 0.4],
  times: [0.5, 1.0, 1.5],
};

test("a job served to a worker posts progress, then its result", async () => {
  const replies: JobReply[] = [];
  const before = tf.memory().numTensors;
  await serveJob({ type: "start", id: 7, job: "trainedProfiles", params }, (r) => replies.push(r), new JobControl(), 0);
  assert.equal(tf.memory().numTensors, before, "no tensors left behind");
  assert.ok(replies.filter((r) => r.type === "progress").length >= 2);
  const done = replies.at(-1)!;
  assert.equal(done.type, "done");
  const rows = (done as { result: { cNoise: string; t: number; value: number }[] }).result;
  assert.equal(rows.length, 2 * 3);
  assert.ok(rows.every((r) => Number.isFinite(r.value) && r.value > 0));
});

test("stopping ends the job early; an unknown job or a failure is one error message", async () => {
  const replies: JobReply[] = [];
  await serveJob({ type: "start", id: 1, job: "trainedProfiles", params }, (r) => replies.push(r), stopAfter(1), 0);
  const result = (replies.at(-1) as { result: unknown[] }).result;
  assert.ok(result.length < 6, "stopped before every network was measured");
  const errors: JobReply[] = [];
  await serveJob({ type: "start", id: 2, job: "nope" as never, params }, (r) => errors.push(r));
  assert.deepEqual(errors, [{ type: "error", id: 2, message: 'unknown job "nope"' }]);
  await serveJob({ type: "start", id: 3, job: "trainedProfiles", params: { ...params, inputs: [1, 2, 3] } }, (r) => errors.push(r));
  assert.equal(errors.at(-1)!.type, "error");
});

test("the toyRun job reports every step, measures quality on schedule, stops on request, and returns EMA weights", async () => {
  const { DEFAULT_TOY_RUN } = await import("../src/components/toy/toy-run-config.ts");
  const config = { ...DEFAULT_TOY_RUN, objective: "scd" as const, network: { hidden: 16, blocks: 1, groups: 4, timeEmbedding: { kind: "positional" as const, dim: 16 } }, batch: 32 };
  const replies: JobReply[] = [];
  const before = tf.memory().numTensors;
  await serveJob({ type: "start", id: 1, job: "toyRun", params: { mixture: params.mixture, config, steps: 10, evaluateEvery: 5, teacher: { kind: "exact" } } }, (r) => replies.push(r), new JobControl(), 0);
  assert.equal(tf.memory().numTensors, before, "no tensors left behind");
  const progress = replies.filter((r) => r.type === "progress").map((r) => (r as { progress: { iteration: number; quality?: unknown } }).progress);
  assert.deepEqual(progress.map((p) => p.iteration), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  assert.deepEqual(progress.filter((p) => p.quality).map((p) => p.iteration), [5, 10]);
  const done = replies.at(-1) as { type: string; result: { iterations: number; weights: Record<string, unknown> } };
  assert.equal(done.type, "done");
  assert.equal(done.result.iterations, 10);
  assert.ok("input.weight" in done.result.weights);
  const stopped: JobReply[] = [];
  await serveJob({ type: "start", id: 2, job: "toyRun", params: { mixture: params.mixture, config, steps: 100, evaluateEvery: 50, teacher: { kind: "exact" } } }, (r) => stopped.push(r), stopAfter(3), 0);
  assert.ok((stopped.at(-1) as { result: { iterations: number } }).result.iterations < 100);

  // Pause after the second report: nothing is posted while paused; resume finishes the run.
  const paused: JobReply[] = [];
  const control = new JobControl();
  const running = serveJob({ type: "start", id: 3, job: "toyRun", params: { mixture: params.mixture, config, steps: 6, evaluateEvery: 50, teacher: { kind: "exact" } } }, (r) => {
    paused.push(r);
    if (paused.length === 2) control.pause();
  }, control, 0);
  await new Promise((resolve) => setTimeout(resolve, 300));
  assert.equal(paused.length, 2, "no progress while paused");
  control.resume();
  await running;
  assert.equal((paused.at(-1) as { type: string; result: { iterations: number } }).result.iterations, 6);
});

test("a stop sent as a message (a macrotask) ends a CPU-backend run that never waits for one itself", async () => {
  const { DEFAULT_TOY_RUN } = await import("../src/components/toy/toy-run-config.ts");
  const config = { ...DEFAULT_TOY_RUN, objective: "teacher" as const, network: { hidden: 8, blocks: 1, groups: 4, timeEmbedding: { kind: "positional" as const, dim: 8 } }, batch: 16 };
  const replies: JobReply[] = [];
  const control = new JobControl();
  // What the worker's onmessage does when the page presses Stop: it runs only if the job lets the event loop in.
  setTimeout(() => control.stop(), 100);
  await serveJob({ type: "start", id: 5, job: "toyRun", params: { mixture: params.mixture, config, steps: 2000, evaluateEvery: 5000, teacher: { kind: "exact" } } }, (r) => replies.push(r), control, 0);
  const done = replies.at(-1) as { type: string; result: { iterations: number } };
  assert.equal(done.type, "done");
  assert.ok(done.result.iterations < 2000, `stopped after ${done.result.iterations} of 2000 steps`);
});

test("the toyRun job can train its teacher first; measurements carry diagnostics and samples and are never throttled", async () => {
  const { DEFAULT_TOY_RUN } = await import("../src/components/toy/toy-run-config.ts");
  const network = { hidden: 16, blocks: 1, groups: 4, timeEmbedding: { kind: "positional" as const, dim: 8 } };
  const teacherConfig = { ...DEFAULT_TOY_RUN, objective: "teacher" as const, network, batch: 32 };
  const config = { ...DEFAULT_TOY_RUN, objective: "sct" as const, network, batch: 32 };
  const replies: JobReply[] = [];
  const before = tf.memory().numTensors;
  // A throttle far longer than the run: only milestones (and the first report) may get through.
  await serveJob(
    { type: "start", id: 4, job: "toyRun", params: { mixture: params.mixture, config, steps: 8, evaluateEvery: 4, evaluationSamples: 200, keepSamples: 50, teacher: { kind: "train", config: teacherConfig, steps: 5 } } },
    (r) => replies.push(r),
    new JobControl(),
    60_000,
  );
  assert.equal(tf.memory().numTensors, before, "no tensors left behind");
  type Progress = { phase: string; iteration: number; evaluation?: { iteration: number; diagnostics: { steps: number; tangentNormByTime: unknown[] }; samples?: { twoStep: number[] } } };
  const progress = replies.filter((r) => r.type === "progress").map((r) => (r as { progress: Progress }).progress);
  assert.ok(progress.some((p) => p.phase === "teacher" && p.iteration === 5), "the teacher's last step is a milestone");
  const measured = progress.filter((p) => p.evaluation);
  assert.deepEqual(measured.map((p) => p.evaluation!.iteration), [4, 8], "every measurement arrives despite the throttle");
  assert.equal(measured[0].evaluation!.diagnostics.steps, 4);
  assert.ok(measured[0].evaluation!.diagnostics.tangentNormByTime.length > 0);
  assert.equal(measured[1].evaluation!.samples!.twoStep.length, 2 * 50);
  const done = replies.at(-1) as { type: string; result: { iterations: number; teacherWeights?: Record<string, unknown> } };
  assert.equal(done.result.iterations, 8);
  assert.ok(done.result.teacherWeights && "input.weight" in done.result.teacherWeights);
});

test("a pause sent as a message lands after the step in flight, not after a batch of steps", async () => {
  const { DEFAULT_TOY_RUN } = await import("../src/components/toy/toy-run-config.ts");
  const config = { ...DEFAULT_TOY_RUN, objective: "teacher" as const, network: { hidden: 8, blocks: 1, groups: 4, timeEmbedding: { kind: "positional" as const, dim: 8 } }, batch: 16 };
  const control = new JobControl();
  // The page's Pause arrives in the worker as a message: deliver it through a port, as a worker's onmessage would.
  // Pause at every 10th report; where the pause lands, the job is resumed (or, the fifth time, stopped).
  const { port1, port2 } = new MessageChannel();
  let reports = 0;
  const requestedAt: number[] = [];
  const landedAt: number[] = [];
  port1.onmessage = () => {
    control.pause();
    landedAt.push(reports);
    setTimeout(() => (landedAt.length < 5 ? control.resume() : control.stop()), 20);
  };
  const post = (reply: JobReply) => {
    if (reply.type !== "progress") return;
    reports++;
    if (reports % 10 === 0 && requestedAt.length === landedAt.length) {
      requestedAt.push(reports);
      port2.postMessage("pause");
    }
  };
  await serveJob({ type: "start", id: 6, job: "toyRun", params: { mixture: params.mixture, config, steps: 2000, evaluateEvery: 5000, teacher: { kind: "exact" } } }, post, control, 0);
  port1.close();
  // A toy step here takes a few milliseconds: a job that let messages in only every 50 ms ran on for up to a dozen
  // steps each time. Between the request and the pause at most the step in flight may end.
  assert.equal(landedAt.length, 5);
  landedAt.forEach((landed, i) => assert.ok(landed - requestedAt[i] <= 1, `pause ${i + 1} requested after report ${requestedAt[i]}, landed after ${landed}`));
  assert.equal(reports, landedAt.at(-1), "no step after the last pause (the job was then stopped)");
});
