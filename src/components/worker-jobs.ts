/**
 * Long computations that pages hand to a Web Worker, written as async generators: each yields progress and
 * returns its result. The same functions run in Node tests and on the main thread; `src/workers/` only adds
 * message passing. Every job checks `shouldStop` between steps.
 */
import * as tf from "@tensorflow/tfjs";
import { TimeConditionedMlp } from "./nn/mlp.js";
import type { CNoiseKind, TimeEmbeddingConfig } from "./nn/layers.js";
import { trainDiffusionOnMixture } from "./diffusion-training.js";
import { timeDerivativeProfile } from "./jvp-experiments.js";
import { createMixture, type GaussianMixture } from "./gaussian-mixture.js";
import { ToyRun, type ToyRunConfig, type ToyStepReport } from "./toy-run.js";
import { exactTeacher } from "./exact-teacher.js";
import type { MlpConfig } from "./nn/mlp.js";
import type { FlowNetwork } from "./nn/network.js";
import type { NamedArray } from "./nn/parameters.js";

export interface TrainedProfileParams {
  mixture: Pick<GaussianMixture, "means" | "stds" | "weights">;
  cNoiseKinds: CNoiseKind[];
  timeEmbedding: TimeEmbeddingConfig;
  network: { hidden: number; blocks: number; seed: number };
  steps: number;
  batch: number;
  /** inputs u (flat, n·2) and times at which to measure sin t·∂F/∂t */
  inputs: number[];
  times: number[];
}

export interface TrainedProfileRow {
  cNoise: CNoiseKind;
  t: number;
  value: number;
}

/**
 * Train one diffusion MLP per c_noise choice on the mixture, then measure its sin t·∂F/∂t profile (the JVP
 * page's "trained" curves).
 */
export interface TrainingProgress {
  cNoise: CNoiseKind;
  step: number;
  steps: number;
  loss: number;
}

export async function* trainedProfilesJob(params: TrainedProfileParams, shouldStop: () => boolean = () => false): AsyncGenerator<TrainingProgress, TrainedProfileRow[]> {
  const mixture = createMixture(params.mixture.means, params.mixture.stds, params.mixture.weights);
  const rows: TrainedProfileRow[] = [];
  const inputs = tf.tensor2d(params.inputs, [params.inputs.length / 2, 2]);
  try {
    for (const cNoise of params.cNoiseKinds) {
      const net = new TimeConditionedMlp({ ...params.network, cNoise, timeEmbedding: params.timeEmbedding, outputGain: 1 });
      try {
        for await (const { step, loss } of trainDiffusionOnMixture(net, mixture, { steps: params.steps, batch: params.batch, reportEvery: 20, seed: 1 })) {
          if (shouldStop()) return rows;
          yield { cNoise, step, steps: params.steps, loss };
        }
        rows.push(...timeDerivativeProfile(net, inputs, params.times).map((r) => ({ ...r, cNoise })));
      } finally {
        net.dispose();
      }
    }
    return rows;
  } finally {
    inputs.dispose();
  }
}

export interface ToyRunParams {
  mixture: Pick<GaussianMixture, "means" | "stds" | "weights">;
  config: ToyRunConfig;
  steps: number;
  /** measure 1- and 2-step sample quality every this many steps */
  evaluateEvery: number;
  /** the analytic F*, or saved teacher weights with their network configuration */
  teacher?: { kind: "exact" } | { kind: "weights"; network: Partial<MlpConfig>; weights: Record<string, NamedArray> };
}

export interface ToyRunProgress extends ToyStepReport {
  /** sliced W₂ of 1- and 2-step samples against the true mixture, when measured at this step */
  quality?: { oneStep: number; twoStep: number };
}

/**
 * A training run on 2-D data (toy-run.ts) as a job: step reports as progress, quality every `evaluateEvery`
 * steps, and the EMA weights at the end. A non-finite loss ends it with the guard's message.
 */
export async function* toyRunJob(params: ToyRunParams, shouldStop: () => boolean = () => false): AsyncGenerator<ToyRunProgress, { weights: Record<string, NamedArray>; iterations: number }> {
  const mixture = createMixture(params.mixture.means, params.mixture.stds, params.mixture.weights);
  let teacher: FlowNetwork | undefined;
  if (params.teacher?.kind === "exact") teacher = exactTeacher(mixture);
  else if (params.teacher?.kind === "weights") {
    const net = new TimeConditionedMlp({ ...params.teacher.network, dataDim: mixture.dim });
    net.params.load(params.teacher.weights);
    teacher = net;
  }
  const run = new ToyRun(mixture, params.config, teacher);
  try {
    while (run.iteration < params.steps && !shouldStop()) {
      const report: ToyRunProgress = await run.step();
      if (report.iteration % params.evaluateEvery === 0 || report.iteration === params.steps) {
        report.quality = run.consistencyQuality(1000, 1);
      }
      yield report;
    }
    return { weights: await run.ema.params.save(), iterations: run.iteration };
  } finally {
    run.dispose();
    teacher?.dispose();
  }
}

export const JOBS = { trainedProfiles: trainedProfilesJob, toyRun: toyRunJob } as const;
export type JobName = keyof typeof JOBS;

/** Messages from page to worker. */
export type JobRequest =
  | { type: "start"; id: number; job: JobName; params: unknown }
  | { type: "pause" | "resume" | "stop"; id: number };

/** Pause, resume and stop for one running job; the job is only ever suspended between two of its steps. */
export class JobControl {
  private paused = false;
  private stopped = false;
  private wake: (() => void) | null = null;
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
  /** Wait here while paused; resolves at once when running or stopped. */
  async checkpoint(): Promise<void> {
    while (this.paused && !this.stopped) await new Promise<void>((resolve) => (this.wake = resolve));
  }
}

/** Messages from worker to page. */
export type JobReply =
  | { type: "progress"; id: number; progress: unknown }
  | { type: "done"; id: number; result: unknown }
  | { type: "error"; id: number; message: string };

/**
 * Drive a job for one request, posting progress (at most every `throttleMs`), the result, or one error
 * message; `control` pauses it between steps or stops it (a stopped job returns its result so far). Used by
 * the worker entry and directly by tests.
 */
export async function serveJob(request: Extract<JobRequest, { type: "start" }>, post: (reply: JobReply) => void, control: JobControl = new JobControl(), throttleMs = 100): Promise<void> {
  const job = JOBS[request.job] as (params: unknown, stop: () => boolean) => AsyncGenerator<unknown, unknown>;
  if (!job) return post({ type: "error", id: request.id, message: `unknown job "${request.job}"` });
  let lastPost = 0;
  try {
    const iterator = job(request.params, () => control.isStopped);
    for (;;) {
      await control.checkpoint();
      const { value, done } = await iterator.next();
      if (done) return post({ type: "done", id: request.id, result: value });
      const now = Date.now();
      if (now - lastPost >= throttleMs) {
        lastPost = now;
        post({ type: "progress", id: request.id, progress: value });
      }
    }
  } catch (error) {
    post({ type: "error", id: request.id, message: error instanceof Error ? error.message : String(error) });
  }
}
