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
  /**
   * P_mean of the log-normal time proposal, ln(σd tan t) ~ N(P_mean, P_std²) (§4.2, App. C); P_std stays the
   * paper's 1.4. Lower values put more training times near the clean end (t → 0).
   */
  proposalMean: number;
}

/** The paper's choices (§4, App. G.2), with warm-up scaled to these short runs. */
export const PAPER_SETTINGS: StabilizerSettings = {
  normalization: PAPER_SCM.normalization,
  warmupIterations: SCALED_WARMUP_ITERATIONS.stabilizers,
  adaptiveWeighting: PAPER_SCM.adaptiveWeighting,
  timeEmbedding: { kind: "positional" },
  cNoise: "identity",
  norm: "double",
  proposalMean: PAPER_SCM.proposal.pMean,
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
    proposal: { pMean: settings.proposalMean, pStd: PROPOSAL_STD },
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

/** P_std of every toy run's proposal: the paper's CIFAR-10 value (App. G.2); the pages vary P_mean only. */
export const PROPOSAL_STD = PAPER_SCM.proposal.pStd;

/** P_mean values of the time-proposal ablation: the paper's −1.0, one step toward the clean end and two toward the noise. */
export const PROPOSAL_MEANS = [-2.2, -1.0, 0.2, 1.4] as const;

/** "pmean-0.2", "pmean--2.2": the run id of a P_mean variant (the paper's own is "paper"). */
export const proposalVariantId = (pMean: number) => `pmean-${pMean}`;

/** A signed number with a true minus sign, as the page prints it: "−2.2", "+0.2". */
const signed = (x: number) => (x < 0 ? `−${Math.abs(x)}` : `+${x}`);

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
  {
    id: "proposal",
    title: "Time proposal",
    claim: "Training times drawn with ln(σd tan t) ~ N(P_mean, 1.4²); the paper keeps P_mean small (−1.0), toward the clean end, for stability (§4.2, App. G.2). Here P_mean moves toward the clean end and toward the noise.",
    // The paper's setting first: the page compares every other variant with the first.
    variants: [paper("P_mean = −1.0 (paper)"), ...PROPOSAL_MEANS.filter((m) => m !== PAPER_SETTINGS.proposalMean).map((pMean) => variant(proposalVariantId(pMean), `P_mean = ${signed(pMean)}`, { proposalMean: pMean }))],
  },
];
