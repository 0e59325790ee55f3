/**
 * The shapes of the files `npm run precompute` writes into src/data/ and the pages read, so the first view
 * shows trained results without waiting. Regenerate them with the script; never edit them by hand.
 */
import type { NamedArray } from "../../checkpoint/safetensors.js";
import type { ToyRunConfig } from "../toy-run-config.js";
import type { ToyEvaluation } from "../toy-evaluation.js";
import type { StabilizerSettings } from "./stabilizers.js";
import type { TangentGap } from "./discrete.js";
import type { ScalingMethod } from "./scaling.js";

/**
 * v3: every configuration trained over several seeds (`seeds` in each run). v2 held one seed per configuration;
 * v1 measured quality against fresh i.i.d. samples instead of the exact sliced W₂ to the mixture.
 */
export const PRECOMPUTED_FORMAT = "sCM Lab precomputed v3";

/**
 * One seed's replicate of a configuration, kept small: its quality curve, its final consistency error and
 * gradient-norm statistics, and how it ended. The seed changes the initialisation and the training noise of
 * both the teacher and the student; the evaluation noise is the same for every seed.
 */
export interface SeedRun {
  seed: number;
  /** exact quality at each measurement, in order */
  quality: { iteration: number; oneStep: number; twoStep: number }[];
  /** RMS of f_θ − f* at the last measurement (CONSISTENCY_ERROR_TIMES) */
  consistencyError?: { t: number; error: number }[];
  /** ‖∇L‖ over the last steps (gradientNormSummary) */
  gradientNorm: GradientNormSummary;
  failure?: string;
  seconds: number;
}

/**
 * One configuration: the full record of its first seed (per-step loss and gradient norm, every measurement with
 * diagnostics and samples: what the step charts and scatter plots draw), and every seed's replicate (`seeds`,
 * the first one included), from which the pages take means and spreads.
 */
export interface PrecomputedRun {
  id: string;
  label: string;
  config: ToyRunConfig;
  /** per-step values (rounded to 4 significant digits) */
  loss: number[];
  gradientNorm: number[];
  evaluations: ToyEvaluation[];
  /** the guard's message if the run stopped on a non-finite loss */
  failure?: string;
  seconds: number;
  /** final EMA weights, kept for runs a page computes with (the continuous model of the discrete page) */
  weights?: PackedWeights;
  /** every seed's replicate, in the order of the header's `seeds` */
  seeds: SeedRun[];
}

/** Mean and coefficient of variation (std/mean) of ‖∇L‖: the spread the paper's Fig. 5a compares. */
export interface GradientNormSummary {
  mean: number;
  cv: number;
}

/** ‖∇L‖ statistics over the last `window` steps of a run (non-finite steps, which a live run may skip, left out). */
export function gradientNormSummary(series: readonly number[], window = 200): GradientNormSummary {
  const tail = series.slice(-window).filter(Number.isFinite);
  const mean = tail.reduce((a, b) => a + b, 0) / Math.max(1, tail.length);
  const variance = tail.reduce((a, b) => a + (b - mean) ** 2, 0) / Math.max(1, tail.length - 1);
  return { mean, cv: Math.sqrt(variance) / mean };
}

export interface PrecomputedTeacher {
  key: string;
  /** the first seed's configuration and EMA weights: the live runs start from them */
  config: ToyRunConfig;
  /** EMA weights, the student's starting point (App. G.2) */
  weights: PackedWeights;
  /** sliced W₂ of 100-NFE Heun ODE samples (50 steps) to the true mixture, one per seed (each seed has its own teacher) */
  odeQuality: number[];
  /** the same for the analytic F*: the best a perfect teacher could do with this sampler and sample count */
  exactOdeQuality: number;
}

export interface PrecomputedHeader {
  format: typeof PRECOMPUTED_FORMAT;
  mixture: { preset: string; modes: number; spread: number };
  evaluationSamples: number;
  /** the least sliced W₂ any evaluationSamples atoms can have to the mixture (MixtureSlicedWasserstein.floor) */
  metricFloor: number;
  /** the seeds every configuration was trained with */
  seeds: number[];
  /** the TF.js backend it ran on in Node ("wasm" or "cpu"), and the seconds the whole file took there, for the README */
  backend: string;
  seconds: number;
}

export interface StabilizersFile extends PrecomputedHeader {
  teachers: PrecomputedTeacher[];
  runs: (PrecomputedRun & { settings: StabilizerSettings })[];
}

export interface DiscreteFile extends PrecomputedHeader {
  teacher: PrecomputedTeacher;
  continuous: PrecomputedRun;
  discrete: (PrecomputedRun & { N: number })[];
  /** consistency *training* from the same start and budget: continuous sCT and the discrete-time ECT (App. E.3) */
  training?: PrecomputedRun[];
  /** float32 tangent gap ‖g_N − g‖/‖g‖ of the first seed's trained continuous model, by N */
  tangentGap: TangentGap[];
}

/**
 * Finding 2 in simulated fp16: the continuous model and discrete models at HALF_GRID_SIZES trained with every
 * target intermediate rounded to half precision (objectives/scm.ts, discrete.ts), from the same teachers and
 * seeds as discrete.json's float32 runs, which they are compared with.
 */
export interface DiscreteHalfFile extends PrecomputedHeader {
  continuous: PrecomputedRun;
  discrete: (PrecomputedRun & { N: number })[];
  /** ‖g_N − g‖/‖g‖ with g_N in fp16 and g the exact float32 tangent, for discrete.json's continuous model */
  tangentGap: TangentGap[];
}

/** Finding 3 (scaling.ts): a teacher, an sCD and an sCT student per width and seed. */
export interface ScalingFile extends PrecomputedHeader {
  widths: {
    width: number;
    /** trainable parameters of the network at this width (teacher and students alike) */
    parameters: number;
    /** 100-NFE Heun ODE quality of each seed's teacher, in seed order */
    teacherOdeQuality: number[];
    /** each student method's replicates, in seed order */
    runs: Record<ScalingMethod, SeedRun[]>;
  }[];
}

/** Weights as little-endian float32 bytes in base64: exact, and 4× smaller than decimal JSON. */
export type PackedWeights = Record<string, { shape: number[]; base64: string }>;

export function packWeights(weights: Record<string, NamedArray>): PackedWeights {
  return Object.fromEntries(
    Object.entries(weights).map(([name, { shape, data }]) => {
      const bytes = new Uint8Array(Float32Array.from(data).buffer);
      let binary = "";
      for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
      return [name, { shape, base64: btoa(binary) }];
    }),
  );
}

export function unpackWeights(packed: PackedWeights): Record<string, NamedArray> {
  return Object.fromEntries(
    Object.entries(packed).map(([name, { shape, base64 }]) => {
      const binary = atob(base64);
      const bytes = Uint8Array.from(binary, (c) => c.charCodeAt(0));
      const data = new Float32Array(bytes.buffer);
      const expected = shape.reduce((a, b) => a * b, 1);
      if (data.length !== expected) throw new Error(`precomputed weight "${name}" holds ${data.length} values, its shape [${shape}] needs ${expected}`);
      return [name, { shape, data }];
    }),
  );
}

/** Refuse a file of another format with a message a reader understands. */
export function checkPrecomputed<T extends PrecomputedHeader>(value: unknown, name: string): T {
  const format = typeof value === "object" && value !== null ? (value as { format?: unknown }).format : undefined;
  if (format !== PRECOMPUTED_FORMAT) {
    const older = format === "sCM Lab precomputed v2" ? " (v2 held one seed per configuration; the pages now compare means over seeds)" : "";
    throw new Error(`${name} is not a ${PRECOMPUTED_FORMAT} file${older}: run npm run precompute to regenerate it`);
  }
  return value as T;
}
