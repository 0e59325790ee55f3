/**
 * One measurement of a toy run, the unit that precomputed files and live worker reports are made of:
 * exact sample quality (sliced W₂ of 1- and 2-step samples to the true mixture, from quasi-random noise), the training
 * diagnostics since the last measurement, and optionally the samples themselves for a scatter plot.
 */
import type { ToyRun } from "./toy-run.js";
import type { DiagnosticsSnapshot } from "../training/diagnostics.js";

export interface ToyEvaluation {
  iteration: number;
  oneStep: number;
  twoStep: number;
  diagnostics: DiagnosticsSnapshot;
  /** RMS of f_θ(x_t, t) − f*(x_t, t) against the exact ideal consistency function, at a few times */
  consistencyError?: { t: number; error: number }[];
  /** flat [x, y, x, y, …] sample coordinates, rounded to 1e-3 (enough for a plot, small in JSON) */
  samples?: { oneStep: number[]; twoStep: number[] };
}

export interface EvaluationOptions {
  /** samples per quality measurement */
  samples: number;
  /** how many of them to keep for plotting (0: none) */
  keepSamples: number;
  /** points x_t per time for the consistency error (0: skip it; each point solves the exact ODE) */
  consistencyPoints?: number;
  seed: number;
}

/** Where the consistency error is measured: near the data, mid-way, and near the noise. */
export const CONSISTENCY_ERROR_TIMES = [0.3, 0.8, 1.3];

const rounded = (values: Float64Array, count: number) => Array.from(values.subarray(0, count), (v) => Math.round(v * 1000) / 1000);

/** Measure a run now. The same noise seed at every measurement, so curves compare the model, not the noise. */
export async function evaluateToyRun(run: ToyRun, { samples, keepSamples, consistencyPoints = 0, seed }: EvaluationOptions): Promise<ToyEvaluation> {
  const [quality, consistencyError] = await Promise.all([
    run.consistencyQuality(samples, seed),
    consistencyPoints > 0 ? run.consistencyError(CONSISTENCY_ERROR_TIMES, consistencyPoints, seed + 2) : null,
  ]);
  const dim = run.mixture.dim;
  const { oneStep: one, twoStep: two } = quality.samples;
  return {
    iteration: run.iteration,
    oneStep: quality.oneStep,
    twoStep: quality.twoStep,
    diagnostics: run.takeDiagnostics(),
    ...(consistencyError ? { consistencyError } : {}),
    ...(keepSamples > 0 ? { samples: { oneStep: rounded(one, keepSamples * dim), twoStep: rounded(two, keepSamples * dim) } } : {}),
  };
}
