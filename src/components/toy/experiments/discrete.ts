/**
 * The computations of the "continuous vs discrete" page. A discrete-time consistency model (App. E) replaces
 * the exact tangent cos t·df/dt by a finite difference over one teacher DDIM step on an N-interval Karras grid
 * (Eq. 37). Two things change with N: the training signal gets closer to the continuous one (truncation
 * error shrinks like 1/N), and the difference of two nearly equal network outputs, divided by sin(t − t'),
 * loses precision (round-off grows like N: slowly in float32, fast in fp16). This module measures both, and
 * defines the runs the page compares under one budget.
 */
import * as tf from "@tensorflow/tfjs";
export { DISCRETE_GRID_SIZES, TANGENT_GAP_SIZES } from "./discrete-sizes.js";
import type { FlowNetwork } from "../../nn/network.js";
import type { Precision } from "../../nn/half-precision.js";
import { scmTargets } from "../../objectives/scm.js";
import { discreteTargets, discreteTimeGrid, discreteTimeProbabilities, sampleDiscreteTimePairs } from "../../objectives/discrete.js";
import { mixtureBatch } from "../../objectives/diffusion.js";
import { createRng } from "../../math/rng.js";
import type { GaussianMixture } from "../../trigflow/gaussian-mixture.js";
import { SCM_CIFAR10_PROPOSAL, type TimeProposal } from "../../trigflow/time-proposal.js";



export interface TangentGap {
  N: number;
  /** mean over samples of ‖g_N − g‖/‖g‖, with g the exact continuous tangent (r = 1, not normalised) */
  relativeError: number;
}

/**
 * How far the discrete tangent of Eq. 37 (times cos t) is from the exact sCD tangent g = cos t·df/dt at the
 * same points (x_t, t), for each N. Both use the same student F_θ⁻ and teacher. The exact tangent is always
 * float32; the discrete one is computed in `precision`: float32 as in training by default, or simulated fp16,
 * where the round-off of its finite difference grows like N (App. E.2) and overtakes the truncation error.
 */
export async function tangentGapByGridSize(net: FlowNetwork, teacher: FlowNetwork, mixture: GaussianMixture, sizes: readonly number[], n: number, seed: number, proposal: TimeProposal = SCM_CIFAR10_PROPOSAL, precision: Precision = "float32"): Promise<TangentGap[]> {
  // Raw tangents at r = 1: no normalisation, no warm-up.
  const raw = { teacher, normalization: { kind: "off" }, warmupIterations: 0 } as const;
  const rows: TangentGap[] = [];
  for (const N of sizes) {
    const rng = createRng(seed);
    const grid = discreteTimeGrid(N);
    const pairs = sampleDiscreteTimePairs(rng, grid, discreteTimeProbabilities(grid, proposal), n);
    const data = mixtureBatch(mixture, n, rng, proposal);
    data.t.dispose();
    const batch = { x0: data.x0, z: data.z, t: tf.tensor1d(pairs.t), tPrime: tf.tensor1d(pairs.tPrime) };
    const discrete = discreteTargets(net, batch, 0, 0, { ...raw, precision });
    const continuous = scmTargets(net, batch, 0, 0, { ...raw, objective: "scd" });
    const relativeError = tf.tidy(() => {
      const rows = (g: tf.Tensor) => tf.reshape(g, [n, -1]);
      const gap = tf.norm(tf.sub(rows(discrete.g), rows(continuous.g)), "euclidean", 1);
      return tf.mean(tf.div(gap, tf.add(tf.norm(rows(continuous.g), "euclidean", 1), 1e-12)));
    });
    tf.dispose([batch.x0, batch.z, batch.t, batch.tPrime, ...Object.values(discrete), ...Object.values(continuous)]);
    // Awaited, never dataSync: this runs in the page's worker, where a synchronous GPU read blocks or fails.
    rows.push({ N, relativeError: (await relativeError.data())[0] });
    relativeError.dispose();
  }
  return rows;
}
