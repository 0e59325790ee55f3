/**
 * The experiments of the stabilizers page as data: the paper's sCT recipe, and one ablation per stabilizer
 * (§4.1–4.2), each a small change of settings. The precompute script, the page and the worker all build
 * their runs from here, so a precomputed curve and a live one use the same configuration.
 */
import { DEFAULT_TOY_RUN, type ToyRunConfig } from "../toy-run-config.js";
import type { TangentNormalization } from "../../objectives/scm.js";
import type { CNoiseKind, AdaptiveNormKind } from "../../nn/layers.js";
import type { MixturePresetName, MixturePresetOptions } from "../mixture-presets.js";
import { PAPER_SCM, SCALED_WARMUP_ITERATIONS } from "../../training/paper-settings.js";

/** What the reader can change on the page: every stabilizer of the paper. */
export interface StabilizerSettings {
  normalization: TangentNormalization;
  /** H of the tangent warm-up; 0 turns it off */
  warmupIterations: number;
  adaptiveWeighting: boolean;
  /** positional (the paper's), or Fourier features with scale s (NCSN++/EDM use 16) */
  timeEmbedding: { kind: "positional" } | { kind: "fourier"; scale: number };
  cNoise: CNoiseKind;
  /** adaptive double normalisation (the paper's) or plain AdaGN */
  norm: AdaptiveNormKind;
}

/** The paper's choices (§4, App. G.2), with warm-up scaled to these short runs. */
export const PAPER_SETTINGS: StabilizerSettings = {
  normalization: PAPER_SCM.normalization,
  warmupIterations: SCALED_WARMUP_ITERATIONS.stabilizers,
  adaptiveWeighting: PAPER_SCM.adaptiveWeighting,
  timeEmbedding: { kind: "positional" },
  cNoise: "identity",
  norm: "double",
};

export const STABILIZER_DATA: { preset: MixturePresetName; options: MixturePresetOptions } = { preset: "ring", options: { modes: 8, spread: 0.06 } };

/** Small enough to train in seconds in a browser tab; the same network for teacher and student. */
export const STABILIZER_NETWORK = { hidden: 32, blocks: 2, groups: 4, embeddingDim: 16 };

export const STABILIZER_TRAINING = {
  teacherSteps: 1000,
  teacherLearningRate: 2e-3,
  studentSteps: 800,
  studentLearningRate: 1e-3,
  batch: 128,
  evaluateEvery: 50,
  /** samples per quality measurement (sliced W₂ against as many fresh true samples) */
  evaluationSamples: 2048,
};

/** The whole run configuration for a setting; `objective` decides teacher or student. */
export function configFromSettings(settings: StabilizerSettings, objective: ToyRunConfig["objective"], seed = 0): ToyRunConfig {
  const { hidden, blocks, groups, embeddingDim } = STABILIZER_NETWORK;
  const teacher = objective === "teacher";
  return {
    ...DEFAULT_TOY_RUN,
    objective,
    network: {
      hidden,
      blocks,
      groups,
      norm: settings.norm,
      cNoise: settings.cNoise,
      timeEmbedding: settings.timeEmbedding.kind === "positional" ? { kind: "positional", dim: embeddingDim } : { kind: "fourier", dim: embeddingDim, fourierScale: settings.timeEmbedding.scale },
    },
    batch: STABILIZER_TRAINING.batch,
    learningRate: teacher ? STABILIZER_TRAINING.teacherLearningRate : STABILIZER_TRAINING.studentLearningRate,
    scm: { normalization: settings.normalization, warmupIterations: settings.warmupIterations, adaptiveWeighting: settings.adaptiveWeighting },
    emaHalfLife: 10_000,
    seed,
  };
}

/**
 * The settings that change the network's shape or meaning. A student starts from a teacher of the same
 * architecture (App. G.2), so teachers are shared by this key.
 */
export function architectureKey(settings: StabilizerSettings): string {
  const embedding = settings.timeEmbedding.kind === "positional" ? "positional" : `fourier-${settings.timeEmbedding.scale}`;
  return `${embedding}|${settings.cNoise}|${settings.norm}`;
}

export interface AblationVariant {
  id: string;
  label: string;
  settings: StabilizerSettings;
}

export interface Ablation {
  id: string;
  title: string;
  /** what the paper claims, and what to look for */
  claim: string;
  variants: AblationVariant[];
}

const paper = (label = "paper"): AblationVariant => ({ id: "paper", label, settings: PAPER_SETTINGS });
const variant = (id: string, label: string, change: Partial<StabilizerSettings>): AblationVariant => ({ id, label, settings: { ...PAPER_SETTINGS, ...change } });

export const ABLATIONS: Ablation[] = [
  {
    id: "normalization",
    title: "Tangent normalization",
    claim: "g/(‖g‖ + c) bounds every sample's regression target, which lowers the variance of the gradient (Fig. 5a); clipping g to [−1, 1] works comparably.",
    variants: [paper("L2, c = 0.1 (paper)"), variant("norm-off", "off", { normalization: { kind: "off" } }), variant("norm-clip", "clip to [−1, 1]", { normalization: { kind: "clip", limit: 1 } })],
  },
  {
    id: "warmup",
    title: "Tangent warm-up",
    claim: "Ramping the second term of g in over H iterations is optional; the paper says it may reduce some gradient spikes.",
    variants: [paper("H = 100 (paper, scaled)"), variant("warmup-off", "off (r = 1 from the start)", { warmupIterations: 0 })],
  },
  {
    id: "adaptive",
    title: "Adaptive weighting",
    claim: "A learned w(t) equalises the loss across t, so no hand-tuned weighting is needed (Eq. 8, Fig. 5b).",
    variants: [paper("learned w(t) (paper)"), variant("adaptive-off", "off (w ≡ 0)", { adaptiveWeighting: false })],
  },
  {
    id: "embedding",
    title: "Time embedding",
    claim: "Fourier features with a large scale s make ∂F/∂t large and oscillatory; positional embeddings amount to s ≈ 0.02 (§4.1, Fig. 4).",
    variants: [paper("positional (paper)"), variant("fourier-16", "Fourier, s = 16", { timeEmbedding: { kind: "fourier", scale: 16 } })],
  },
  {
    id: "cnoise",
    title: "Time conditioning c_noise(t)",
    claim: "EDM's ¼·ln(σd tan t) has sin t·∂c/∂t = 1/(4 cos t), which blows up as t → π/2; sCM feeds t itself (§4.1).",
    variants: [paper("t (paper)"), variant("cnoise-log", "¼·ln(σd tan t) (EDM)", { cNoise: "logSigma" }), variant("cnoise-1000", "1000·t", { cNoise: "scaled1000" })],
  },
  {
    id: "doublenorm",
    title: "Adaptive double normalization",
    claim: "Pixel-normalising AdaGN's scale and shift keeps them bounded; plain AdaGN diverged in the paper's runs (§4.1).",
    variants: [paper("double normalization (paper)"), variant("adagn", "plain AdaGN", { norm: "adagn" })],
  },
];
