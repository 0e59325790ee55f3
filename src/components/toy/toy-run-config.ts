/**
 * A 2-D run's settings and their defaults, in a module without TF.js, so that pages can read settings (and build
 * a worker's parameters) without loading TF.js on their main thread.
 */
import type { MlpConfig } from "../nn/mlp.js";
import type { TrainerConfig } from "../training/trainer.js";
import type { TimeProposal } from "../trigflow/time-proposal.js";
import { PAPER_SCM, SCALED_WARMUP_ITERATIONS } from "../training/paper-settings.js";

export interface ToyRunConfig extends TrainerConfig {
  network: Partial<MlpConfig>;
  proposal: TimeProposal;
  /** N, the number of grid intervals of the discrete-time objective */
  discreteSteps: number;
}

export const DEFAULT_TOY_RUN: ToyRunConfig = {
  objective: "sct",
  network: { hidden: 64, blocks: 2, groups: 8, timeEmbedding: { kind: "positional", dim: 32 } },
  batch: 256,
  learningRate: 1e-3,
  optimizer: "adam",
  proposal: PAPER_SCM.proposal,
  scm: { normalization: PAPER_SCM.normalization, warmupIterations: SCALED_WARMUP_ITERATIONS.toy, adaptiveWeighting: PAPER_SCM.adaptiveWeighting },
  emaHalfLife: 5000,
  discreteSteps: 64,
  seed: 0,
};
