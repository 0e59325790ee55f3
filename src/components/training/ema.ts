/**
 * Exponential moving average of network parameters, the weights sCM samples with (App. G.2). The EMA lives in
 * a second network of the same architecture, so sampling code takes it like any network.
 */
import * as tf from "@tensorflow/tfjs";
import type { ParameterSet } from "../nn/parameters.js";
import { flatten, unflatten } from "./fused-adam.js";

/**
 * Per-step decay for an EMA half-life measured in training images, EDM's convention: β = 0.5^(batch/halfLife).
 * CIFAR-10 sCM: half-life 0.5 Mimg at batch 512 gives β ≈ 0.99929 (App. G.2).
 */
export function emaDecayFromHalfLife(halfLifeImages: number, batchSize: number): number {
  return 0.5 ** (batchSize / halfLifeImages);
}

/**
 * target ← β·target + (1 − β)·source for every parameter (same names and shapes), as one vector: three kernels
 * for the arithmetic instead of three per parameter (fused-adam.ts says why that matters on a GPU).
 */
export function updateEma(target: ParameterSet, source: ParameterSet, decay: number): void {
  const names = source.names();
  const targets = names.map((name) => target.get(name));
  tf.tidy(() => {
    const averaged = tf.add(tf.mul(flatten(targets), decay), tf.mul(flatten(names.map((name) => source.get(name))), 1 - decay));
    unflatten(averaged as tf.Tensor1D, targets.map((t) => [...t.shape])).forEach((value, i) => targets[i].assign(value));
  });
}

/** target ← source (e.g. initialise the EMA, or start a consistency model from the teacher's EMA). */
export function copyParameters(target: ParameterSet, source: ParameterSet): void {
  updateEma(target, source, 0);
}
