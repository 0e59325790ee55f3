/**
 * TrigFlow diffusion training (the teacher objective, Eq. 4 / 25): regress σd·F_θ(x_t/σd, t) onto the
 * velocity v_t = cos t·z − sin t·x0, with t drawn from the log-normal proposal of §4.2 and unit weight
 * (which equals EDM's weighting in TrigFlow form, §3).
 */
import * as tf from "@tensorflow/tfjs";
import { plainAlgebra } from "../nn/algebra.js";
import type { ApplyOptions, FlowNetwork } from "../nn/network.js";
import { SIGMA_D } from "../trigflow/trigflow.js";
import { diffuseBatch, pathVelocityBatch } from "../trigflow/trigflow-batch.js";
import { normalArray, type Rng } from "../math/rng.js";
import { sampleMixture, type GaussianMixture } from "../trigflow/gaussian-mixture.js";
import { sampleTime, type TimeProposal } from "../trigflow/time-proposal.js";

/** EDM's default proposal for diffusion training, P = (−1.2, 1.2) (Karras et al. 2022). */
export const EDM_PROPOSAL: TimeProposal = { pMean: -1.2, pStd: 1.2 };

/** mean over the batch and dimensions of (σd·F(x_t/σd, t) − v_t)², for x0, z: [B, …] and t: [B]. */
export function diffusionLoss(net: FlowNetwork, x0: tf.Tensor, z: tf.Tensor, t: tf.Tensor, options: ApplyOptions = {}, sigmaD = SIGMA_D): tf.Scalar {
  return tf.tidy(() => {
    const xt = diffuseBatch(x0, z, t);
    const velocity = pathVelocityBatch(x0, z, t);
    const F = net.apply(plainAlgebra, tf.div(xt, sigmaD), t, options);
    return tf.mean(tf.square(tf.sub(tf.mul(F, sigmaD), velocity))) as tf.Scalar;
  });
}

/**
 * A training batch from a Gaussian mixture: data x0 [n, dim], noise z ~ N(0, σd² I), and times t drawn from
 * the proposal (tensors; the caller disposes them).
 */
export function mixtureBatch(mixture: GaussianMixture, n: number, rng: Rng, proposal: TimeProposal): { x0: tf.Tensor; z: tf.Tensor; t: tf.Tensor; times: Float32Array } {
  const dim = mixture.dim;
  const x0 = tf.tensor2d(Float32Array.from(sampleMixture(mixture, n, rng).points), [n, dim]);
  const z = tf.tensor2d(Float32Array.from(normalArray(rng, n * dim, SIGMA_D)), [n, dim]);
  const times = Float32Array.from({ length: n }, () => sampleTime(rng, proposal));
  // The times travel as numbers too, so diagnostics never read t back from the GPU.
  return { x0, z, t: tf.tensor1d(times), times };
}
