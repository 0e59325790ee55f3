/**
 * A 2-D run's settings and their defaults, in a module without TF.js, so that pages can read settings (and build
 * a worker's parameters) without loading TF.js on their main thread.
 */
import type { MlpConfig } from "../nn/mlp.js";
import type { TrainerConfig } from "../training/trainer.js";
import { SCM_CIFAR10_PROPOSAL, type TimeProposal } from "../trigflow/time-proposal.js";

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
  proposal: SCM_CIFAR10_PROPOSAL,
  scm: { normalization: { kind: "l2", c: 0.1 }, warmupIterations: 200, adaptiveWeighting: true },
  emaHalfLife: 5000,
  discreteSteps: 64,
  seed: 0,
};
