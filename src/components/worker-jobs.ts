/**
 * Long computations that pages hand to a Web Worker, written as async generators: each yields progress and
 * returns its result. The same functions run in Node tests and on the main thread; `src/workers/` only adds
 * message passing. Every job checks `shouldStop` between steps.
 */
import * as tf from "@tensorflow/tfjs";
import { TimeConditionedMlp } from "./nn/mlp.js";
import { finiteDifferenceJob, halfPrecisionJob, profilesJob, trainedProfilesJob } from "./jvp-jobs.js";
// The JVP page's jobs live in jvp-jobs.ts; this re-export keeps older imports of the type working.
export type { TrainedProfileParams } from "./jvp-jobs.js";
import { createMixture, type GaussianMixture } from "./gaussian-mixture.js";
import { ToyRun, type ToyRunConfig, type ToyStepReport } from "./toy-run.js";
import { exactTeacher } from "./exact-teacher.js";
import type { MlpConfig } from "./nn/mlp.js";
import type { FlowNetwork } from "./nn/network.js";
import type { NamedArray } from "./nn/parameters.js";
import { evaluateToyRun, type ToyEvaluation } from "./toy-evaluation.js";
import { tangentGapByGridSize, type TangentGap } from "./discrete-experiments.js";
import { pretrainedInspectJob, pretrainedLoadJob, pretrainedSampleJob } from "./pretrained-jobs.js";
import { imageTrainJob } from "./image-jobs.js";
import { backendSelection, deviceLoss, type BackendReport } from "./backend.js";
import { speedCheckJob } from "./speed-check.js";

/** The worker's backend choice, for the page's notice: the worker, not the page, runs the math. */
// eslint-disable-next-line require-yield
export async function* backendJob(): AsyncGenerator<never, BackendReport> {
  return backendSelection();
}

export interface ToyRunParams {
  mixture: Pick<GaussianMixture, "means" | "stds" | "weights">;
  config: ToyRunConfig;
  steps: number;
  /** measure 1- and 2-step sample quality every this many steps */
  evaluateEvery: number;
  /** samples per quality measurement (default 1000) and how many to send back for plotting (default 0) */
  evaluationSamples?: number;
  keepSamples?: number;
  /** points per time for the exact consistency error ‖f_θ − f*‖ (default 0: not measured) */
  consistencyPoints?: number;
  /**
   * The teacher: the analytic F*, saved weights with their network configuration, or one trained first in
   * this job (its EMA then initialises the student, as in App. G.2).
   */
  teacher?:
    | { kind: "exact" }
    | { kind: "weights"; network: Partial<MlpConfig>; weights: Record<string, NamedArray> }
    | { kind: "train"; config: ToyRunConfig; steps: number };
}

export interface ToyRunProgress extends ToyStepReport {
  /** "teacher" while a teacher is trained first, then "student" */
  phase: "teacher" | "student";
  /** steps of this phase */
  steps: number;
  /** sliced W₂ of 1- and 2-step samples against the true mixture, when measured at this step */
  quality?: { oneStep: number; twoStep: number };
  /** the whole measurement (quality, diagnostics, samples) at this step */
  evaluation?: ToyEvaluation;
  /** a report that must reach the page even when progress is throttled */
  milestone?: boolean;
}

export interface ToyRunResult {
  weights: Record<string, NamedArray>;
  iterations: number;
  /** the EMA weights of a teacher trained in this job */
  teacherWeights?: Record<string, NamedArray>;
}

/**
 * A training run on 2-D data (toy-run.ts) as a job: step reports as progress, a measurement every
 * `evaluateEvery` steps, and the EMA weights at the end. A non-finite loss ends it with the guard's message.
 */
export async function* toyRunJob(params: ToyRunParams, shouldStop: () => boolean = () => false): AsyncGenerator<ToyRunProgress, ToyRunResult> {
  const mixture = createMixture(params.mixture.means, params.mixture.stds, params.mixture.weights);
  const measure = { samples: params.evaluationSamples ?? 1000, keepSamples: params.keepSamples ?? 0, consistencyPoints: params.consistencyPoints ?? 0, seed: 1 };
  let teacher: FlowNetwork | undefined;
  let trainedTeacher: ToyRun | undefined;
  const runs: ToyRun[] = [];
  try {
    if (params.teacher?.kind === "exact") teacher = exactTeacher(mixture);
    else if (params.teacher?.kind === "weights") {
      const net = new TimeConditionedMlp({ ...params.teacher.network, dataDim: mixture.dim });
      net.params.load(params.teacher.weights);
      teacher = net;
    } else if (params.teacher?.kind === "train") {
      trainedTeacher = new ToyRun(mixture, params.teacher.config);
      runs.push(trainedTeacher);
      const steps = params.teacher.steps;
      while (trainedTeacher.iteration < steps) {
        if (shouldStop()) return { weights: {}, iterations: 0, teacherWeights: await trainedTeacher.ema.params.save() };
        const report = await trainedTeacher.step();
        yield { ...report, phase: "teacher", steps, milestone: report.iteration === steps };
      }
      teacher = trainedTeacher.ema;
    }
    const run = new ToyRun(mixture, params.config, teacher);
    runs.push(run);
    while (run.iteration < params.steps && !shouldStop()) {
      const report: ToyRunProgress = { ...(await run.step()), phase: "student", steps: params.steps };
      if (report.iteration % params.evaluateEvery === 0 || report.iteration === params.steps) {
        report.evaluation = await evaluateToyRun(run, measure);
        report.quality = { oneStep: report.evaluation.oneStep, twoStep: report.evaluation.twoStep };
        report.milestone = true;
      }
      yield report;
    }
    return { weights: await run.ema.params.save(), iterations: run.iteration, ...(trainedTeacher ? { teacherWeights: await trainedTeacher.ema.params.save() } : {}) };
  } finally {
    runs.forEach((r) => r.dispose());
    if (!trainedTeacher) teacher?.dispose();
  }
}

export interface TangentGapParams {
  mixture: Pick<GaussianMixture, "means" | "stds" | "weights">;
  network: Partial<MlpConfig>;
  /** the student whose tangent is measured, and the teacher whose DDIM step the discrete tangent takes */
  studentWeights: Record<string, NamedArray>;
  teacherWeights: Record<string, NamedArray>;
  sizes: number[];
  samples: number;
}

/** The discrete-vs-continuous tangent gap (discrete-experiments.ts), one grid size per progress report. */
export async function* tangentGapJob(params: TangentGapParams, shouldStop: () => boolean = () => false): AsyncGenerator<TangentGap, TangentGap[]> {
  const mixture = createMixture(params.mixture.means, params.mixture.stds, params.mixture.weights);
  const student = new TimeConditionedMlp({ ...params.network, dataDim: mixture.dim });
  const teacher = new TimeConditionedMlp({ ...params.network, dataDim: mixture.dim });
  try {
    student.params.load(params.studentWeights);
    teacher.params.load(params.teacherWeights);
    const rows: TangentGap[] = [];
    for (const N of params.sizes) {
      if (shouldStop()) break;
      const [row] = await tangentGapByGridSize(student, teacher, mixture, [N], params.samples, 3);
      rows.push(row);
      yield row;
    }
    return rows;
  } finally {
    student.dispose();
    teacher.dispose();
  }
}

export const JOBS = {
  backend: backendJob,
  speedCheck: speedCheckJob,
  trainedProfiles: trainedProfilesJob, toyRun: toyRunJob, tangentGap: tangentGapJob,
  // The JVP page: each figure's computation.
  jvpProfiles: profilesJob, jvpHalfPrecision: halfPrecisionJob, jvpFiniteDifference: finiteDifferenceJob,
  // The pretrained-models page: one long-lived worker keeps the loaded model between these jobs.
  pretrainedInspect: pretrainedInspectJob, pretrainedLoad: pretrainedLoadJob, pretrainedSample: pretrainedSampleJob,
  // The CIFAR-10 page: stream the data, train, sample, autosave.
  imageTrain: imageTrainJob,
} as const;
export type JobName = keyof typeof JOBS;

/** Messages from page to worker. A command (e.g. "save") is a request a job handles between two of its steps. */
export type JobRequest =
  | { type: "start"; id: number; job: JobName; params: unknown }
  | { type: "pause" | "resume" | "stop"; id: number }
  | { type: "command"; id: number; command: string };

/**
 * Pause, resume, stop and commands for one running job; the job is only ever suspended between two of its
 * steps. A command wakes a paused job for one step of the generator, in which the job answers it (and yields)
 * without training, so "save" works while paused.
 */
export class JobControl {
  private paused = false;
  private stopped = false;
  private wake: (() => void) | null = null;
  private readonly commands: string[] = [];
  command(name: string): void {
    this.commands.push(name);
    this.wake?.();
  }
  /** Commands received since the last call, oldest first. */
  takeCommands(): string[] {
    return this.commands.splice(0);
  }
  get isPaused(): boolean {
    return this.paused;
  }
  pause(): void {
    this.paused = true;
  }
  resume(): void {
    this.paused = false;
    this.wake?.();
  }
  stop(): void {
    this.stopped = true;
    this.wake?.();
  }
  get isStopped(): boolean {
    return this.stopped;
  }
  /** Wait here while paused; resolves at once when running or stopped, or when a command arrives. */
  async checkpoint(): Promise<void> {
    while (this.paused && !this.stopped && this.commands.length === 0) await new Promise<void>((resolve) => (this.wake = resolve));
  }
}

/** Messages from worker to page. */
export type JobReply =
  | { type: "progress"; id: number; progress: unknown }
  | { type: "done"; id: number; result: unknown }
  | { type: "error"; id: number; message: string };

/**
 * Drive a job for one request, posting progress (at most every `throttleMs`, except reports marked
 * `milestone`, which always go), the result, or one error
 * message; `control` pauses it between steps or stops it (a stopped job returns its result so far). Used by
 * the worker entry and directly by tests.
 */
/** How often a running job lets the worker's message queue in (see serveJob). */
const YIELD_EVERY_MS = 50;

export async function serveJob(request: Extract<JobRequest, { type: "start" }>, post: (reply: JobReply) => void, control: JobControl = new JobControl(), throttleMs = 100): Promise<void> {
  const job = JOBS[request.job] as (params: unknown, stop: () => boolean, control: JobControl) => AsyncGenerator<unknown, unknown>;
  if (!job) return post({ type: "error", id: request.id, message: `unknown job "${request.job}"` });
  let lastPost = 0;
  let lastYield = Date.now();
  try {
    const iterator = job(request.params, () => control.isStopped, control);
    for (;;) {
      // On TF.js's CPU backend a step never waits for a macrotask (every await settles as a microtask), so the
      // worker would not see a pause, stop or command message until the job ended. Let them in every 50 ms.
      if (Date.now() - lastYield >= YIELD_EVERY_MS) {
        await new Promise((resolve) => setTimeout(resolve, 0));
        lastYield = Date.now();
      }
      await control.checkpoint();
      if (deviceLoss()) throw new Error("it was between two steps");
      const { value, done } = await iterator.next();
      if (done) return post({ type: "done", id: request.id, result: value });
      const now = Date.now();
      if (now - lastPost >= throttleMs || (value as { milestone?: boolean } | null)?.milestone) {
        lastPost = now;
        post({ type: "progress", id: request.id, progress: value });
      }
    }
  } catch (error) {
    post({ type: "error", id: request.id, message: describeJobError(error) });
  }
}

/**
 * One sentence for a failed job. After a lost WebGPU device every GPU call fails with a message about buffers or
 * instances that says nothing to a reader; name the real cause and the way out instead.
 */
export function describeJobError(error: unknown, lost: string | null = deviceLoss()): string {
  const message = error instanceof Error ? error.message : String(error);
  if (lost) return `${lost}, so the run stopped (${message}). Reload the page to start again, or add ?backend=webgl to the address to use WebGL.`;
  return message;
}
