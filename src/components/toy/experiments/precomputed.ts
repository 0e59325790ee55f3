/**
 * The shapes of the files `npm run precompute` writes into src/data/ and the pages read, so the first view
 * shows trained results without waiting. Regenerate them with the script; never edit them by hand.
 */
import type { NamedArray } from "../../checkpoint/safetensors.js";
import type { ToyRunConfig } from "../toy-run-config.js";
import type { ToyEvaluation } from "../toy-evaluation.js";
import type { StabilizerSettings } from "./stabilizers.js";
import type { TangentGap } from "./discrete.js";

/** v2: quality is the exact sliced W₂ of quasi-random samples to the mixture (v1 compared with fresh i.i.d. samples). */
export const PRECOMPUTED_FORMAT = "sCM Lab precomputed v2";

/** One trained run: per-step loss and gradient norm, the measurements, and how it ended. */
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
}

export interface PrecomputedTeacher {
  key: string;
  config: ToyRunConfig;
  /** EMA weights, the student's starting point (App. G.2) */
  weights: PackedWeights;
  /** sliced W₂ of 100-NFE Heun ODE samples (50 steps) to the true mixture */
  odeQuality: number;
  /** the same for the analytic F*: the best a perfect teacher could do with this sampler and sample count */
  exactOdeQuality: number;
}

export interface PrecomputedHeader {
  format: typeof PRECOMPUTED_FORMAT;
  mixture: { preset: string; modes: number; spread: number };
  evaluationSamples: number;
  /** the least sliced W₂ any evaluationSamples atoms can have to the mixture (MixtureSlicedWasserstein.floor) */
  metricFloor: number;
  /** seconds the whole file took in Node's CPU backend, for the README */
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
  /** float32 tangent gap ‖g_N − g‖/‖g‖ of the trained continuous model, by N */
  tangentGap: TangentGap[];
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
  if (typeof value !== "object" || value === null || (value as { format?: unknown }).format !== PRECOMPUTED_FORMAT) {
    throw new Error(`${name} is not a ${PRECOMPUTED_FORMAT} file: run npm run precompute to regenerate it`);
  }
  return value as T;
}
