/**
 * What a CIFAR-10 run is configured with: the UNet presets and the paper's settings scaled to a browser. Kept
 * apart from image-run.ts (which trains, with TF.js) so that /cifar10's controls load no TF.js on the page.
 */
import type { UNetConfig } from "../nn/unet-config.js";
import type { TimeProposal } from "../trigflow/time-proposal.js";
import type { TrainerConfig } from "../training/trainer.js";
import { PAPER_SCM, SCALED_WARMUP_ITERATIONS } from "../training/paper-settings.js";

/** Three sizes of the small UNet (all 32×32 RGB); parameter counts are computed, see unetParameterCount. */
export type UNetPresetName = "tiny" | "small" | "base";

export const UNET_PRESETS: Record<UNetPresetName, Partial<UNetConfig>> = {
  tiny: { baseChannels: 16, channelMult: [1, 2], blocksPerLevel: 1, attentionResolutions: [], timeEmbedding: { kind: "positional", dim: 16 } },
  small: { baseChannels: 32, channelMult: [1, 2, 2], blocksPerLevel: 1, attentionResolutions: [16], timeEmbedding: { kind: "positional", dim: 32 } },
  base: { baseChannels: 64, channelMult: [1, 2, 2], blocksPerLevel: 2, attentionResolutions: [16], timeEmbedding: { kind: "positional", dim: 64 } },
};

export interface ImageRunConfig extends TrainerConfig {
  /** the UNet (a preset, plus dropout and the other options of UNetConfig) */
  network: Partial<UNetConfig>;
  /** time proposal of sCT/sCD; the teacher uses EDM's (−1.2, 1.2) */
  proposal: TimeProposal;
  /** horizontal-flip augmentation */
  flip: boolean;
}

/**
 * The paper's CIFAR-10 settings where they fit a browser (App. G.1–G.2): Adam lr 1e-3 and dropout
 * 0.13 for the teacher; RAdam lr 1e-4, β = (0.9, 0.99), P = (−1.0, 1.4), c = 0.1, adaptive weighting and
 * dropout 0.2 for sCT (0 for sCD). Scaled down: batch 64 instead of 512, and the EMA half-life and tangent
 * warm-up shortened in proportion to runs of thousands, not 400k, of steps.
 */
export function defaultImageRunConfig(objective: "teacher" | "sct" | "scd", preset: UNetPresetName = "small"): ImageRunConfig {
  const teacher = objective === "teacher";
  return {
    objective,
    network: { ...UNET_PRESETS[preset], dropout: teacher ? 0.13 : objective === "sct" ? 0.2 : 0 },
    batch: 64,
    learningRate: teacher ? 1e-3 : 1e-4,
    optimizer: teacher ? "adam" : "radam",
    proposal: PAPER_SCM.proposal,
    scm: { normalization: PAPER_SCM.normalization, warmupIterations: SCALED_WARMUP_ITERATIONS.images, adaptiveWeighting: PAPER_SCM.adaptiveWeighting },
    emaHalfLife: 20_000,
    flip: true,
    seed: 0,
  };
}
