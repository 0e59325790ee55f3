/**
 * The 2-D jobs: a training run (teacher and student, measured as it goes) and the discrete-vs-continuous tangent
 * gap. Async generators like every job (registry.ts): each yields progress, returns its result, and checks
 * `shouldStop` between steps. The same functions run in Node tests and scripts.
 */
import { TimeConditionedMlp, type MlpConfig } from "../nn/mlp.js";
import type { FlowNetwork } from "../nn/network.js";
import type { NamedArray } from "../checkpoint/safetensors.js";
import { createMixture, type GaussianMixture } from "../trigflow/gaussian-mixture.js";
import { ToyRun, type ToyStepReport } from "../toy/toy-run.js";
import type { ToyRunConfig } from "../toy/toy-run-config.js";
import { exactTeacher } from "../toy/exact-teacher.js";
import { evaluateToyRun, type ToyEvaluation } from "../toy/toy-evaluation.js";
import { tangentGapByGridSize, type TangentGap } from "../toy/experiments/discrete.js";

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
  const measure = { samples: params.evaluationSamples ?? 1024, keepSamples: params.keepSamples ?? 0, consistencyPoints: params.consistencyPoints ?? 0, seed: 1 };
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

/** The discrete-vs-continuous tangent gap (toy/experiments/discrete.ts), one grid size per progress report. */
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
