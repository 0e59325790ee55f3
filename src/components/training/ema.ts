/**
 * Exponential moving average of network parameters, the weights sCM samples with (App. G.2). The EMA lives in
 * a second network of the same architecture, so sampling code takes it like any network.
 */
import * as tf from "@tensorflow/tfjs";
import type { ParameterSet } from "../nn/parameters.js";
import { FlatParameters } from "./flat-parameters.js";

/**
 * Per-step decay for an EMA half-life measured in training images, EDM's convention: β = 0.5^(batch/halfLife).
 * CIFAR-10 sCM: half-life 0.5 Mimg at batch 512 gives β ≈ 0.99929 (App. G.2).
 */
export function emaDecayFromHalfLife(halfLifeImages: number, batchSize: number): number {
  return 0.5 ** (batchSize / halfLifeImages);
}

/**
 * target ← β·target + (1 − β)·source over all parameters (same names and shapes) as one vector: three kernels for
 * the arithmetic, not three per parameter. The average is kept as that vector and written into the target's
 * variables only when `sync` asks for them (to sample, save or show): at every step that write would be a slice
 * per parameter, ~150 GPU programs, for weights nobody reads until the run samples.
 */
export class ParameterEma {
  private readonly average: FlatParameters;
  private readonly source: FlatParameters;

  /** Starts the target equal to the source. */
  constructor(readonly target: ParameterSet, source: ParameterSet, readonly decay: number) {
    const names = source.names();
    copyParameters(target, source);
    this.average = new FlatParameters(names.map((name) => target.get(name)));
    this.source = new FlatParameters(names.map((name) => source.get(name)));
  }

  /** One step of the average towards the source's current values. */
  update(): void {
    const { decay } = this;
    const next = tf.tidy(() => tf.add(tf.mul(this.average.values(), decay), tf.mul(this.source.values(), 1 - decay)) as tf.Tensor1D);
    this.average.defer(next);
  }

  /** Write the average into the target's variables, if steps since the last sync have not been written yet. */
  sync(): void {
    this.average.sync();
  }

  /**
   * Resolves when the latest update has been computed: one value of the average read back (device queues run in
   * order, so everything queued before it has finished too). For timing a step to its very end.
   */
  async settled(): Promise<void> {
    const last = tf.slice(this.average.values(), this.average.size - 1, 1);
    try {
      await last.data();
    } finally {
      last.dispose();
    }
  }

  /** The average as one vector: a new tensor, which the caller disposes. */
  snapshot(): tf.Tensor1D {
    return tf.clone(this.average.values());
  }

  /** Make `saved` (from snapshot) the average again; `saved` stays the caller's. */
  restore(saved: tf.Tensor1D): void {
    this.average.defer(tf.clone(saved));
  }

  dispose(): void {
    this.average.dispose();
    this.source.dispose();
  }
}

/**
 * target ← source for every parameter of `source` (e.g. initialise the EMA, or start a consistency model from the
 * teacher's EMA). Tensors never change in place, so the target's variables can share the source's values.
 */
export function copyParameters(target: ParameterSet, source: ParameterSet): void {
  for (const name of source.names()) target.get(name).assign(source.get(name));
}
