/**
 * The parameters of the training pages' live runs (the stabilizers page's A/B runs, the discrete page's
 * discrete-vs-continuous pair and the scaling page's sCD-vs-sCT pair), built in one place so that the page and the browser tests — which rerun the
 * same job in Node and compare the numbers — cannot drift apart.
 */
import type { Precision } from "../nn/half-precision.js";
import type { GaussianMixture } from "../trigflow/gaussian-mixture.js";
import type { TangentGapParams, ToyRunParams } from "./toy-jobs.js";
import type { DiscreteFile, StabilizersFile } from "../toy/experiments/precomputed.js";
import { unpackWeights } from "../toy/experiments/precomputed.js";
import { scalingConfig, type ScalingMethod } from "../toy/experiments/scaling.js";
import { architectureKey, configFromSettings, PAPER_SETTINGS, STABILIZER_TRAINING, type StabilizerSettings } from "../toy/experiments/stabilizers.js";

/** What every live toy run measures: 1000 samples for quality, 400 kept for the scatter plots, 100 points for ‖f − f*‖. */
const MEASURE = { evaluationSamples: 1024, keepSamples: 400, consistencyPoints: 100 } as const;

const mixtureOf = (m: GaussianMixture) => ({ means: m.means, stds: m.stds, weights: m.weights });

/** An sCT run with these stabilizer settings, from the precomputed teacher of its architecture (or one trained first). */
export function stabilizerRunParams(file: StabilizersFile, mixture: GaussianMixture, settings: StabilizerSettings, steps: number): ToyRunParams {
  const teacher = file.teachers.find((t) => t.key === architectureKey(settings));
  return {
    mixture: mixtureOf(mixture),
    config: configFromSettings(settings, "sct"),
    steps,
    evaluateEvery: STABILIZER_TRAINING.evaluateEvery,
    ...MEASURE,
    teacher: teacher
      ? { kind: "weights", network: teacher.config.network, weights: unpackWeights(teacher.weights) }
      : { kind: "train", config: configFromSettings(settings, "teacher"), steps: STABILIZER_TRAINING.teacherSteps },
  };
}

/**
 * A discrete-time CM with N grid intervals ("discrete") or its continuous counterpart ("scd"), from the same teacher,
 * with float32 or simulated fp16 targets.
 */
export function discreteRunParams(file: DiscreteFile, mixture: GaussianMixture, objective: "discrete" | "scd", N: number, steps: number, precision: Precision = "float32"): ToyRunParams {
  const config = configFromSettings(PAPER_SETTINGS, objective);
  return {
    mixture: mixtureOf(mixture),
    config: { ...config, discreteSteps: N, scm: { ...config.scm, precision } },
    steps,
    evaluateEvery: STABILIZER_TRAINING.evaluateEvery,
    ...MEASURE,
    teacher: { kind: "weights", network: file.teacher.config.network, weights: unpackWeights(file.teacher.weights) },
  };
}

/**
 * One student of the scaling page at a width: its job trains the teacher first (the same seed and recipe in both
 * jobs, so sCD and sCT start from identical teachers, each in its own worker), then distils or trains.
 */
export function scalingRunParams(mixture: GaussianMixture, width: number, method: ScalingMethod, steps: number): ToyRunParams {
  return {
    mixture: mixtureOf(mixture),
    config: scalingConfig(width, method),
    steps,
    evaluateEvery: STABILIZER_TRAINING.evaluateEvery,
    ...MEASURE,
    teacher: { kind: "train", config: scalingConfig(width, "teacher"), steps: STABILIZER_TRAINING.teacherSteps },
  };
}

/** The discrete page's "recompute in this browser": the tangent gap of its continuous model against its teacher. */
export function tangentGapParams(file: DiscreteFile, mixture: GaussianMixture, sizes: readonly number[]): TangentGapParams {
  if (!file.continuous.weights) throw new Error("discrete.json has no weights for its continuous model");
  return {
    mixture: mixtureOf(mixture),
    network: file.continuous.config.network,
    studentWeights: unpackWeights(file.continuous.weights),
    teacherWeights: unpackWeights(file.teacher.weights),
    sizes: [...sizes],
    samples: 256,
  };
}
