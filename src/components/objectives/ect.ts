/**
 * The discrete-time consistency-training baseline: ECT ("Consistency Models Made Easy", Geng et al. 2024),
 * the method sCT is compared with in App. E.3 / Table 3. Written in EDM's σ units, as ECT is, and evaluated
 * through the TrigFlow consistency function, which is the same function in other coordinates
 * (σ = σd·tan t, x_t = cos t·x_σ, App. B.2):
 *
 *   σ ~ LogNormal(P_mean, P_std²)                 P = (−1.1, 2.0)
 *   r = σ·(1 − q^{−(stage+1)}·(1 + k·sigmoid(−b·σ))),  clamped at 0     (the gap shrinks as stages pass)
 *   x_σ = x0 + σ·ε,  x_r = x0 + r·ε                 the SAME ε (consistency training, no teacher)
 *   L = w(σ)·‖f_θ(x_σ, σ) − f_θ⁻(x_r, r)‖₂,  w(σ) = (σ² + σd²)/(σ·σd)²   (c = 0: plain L2 norm)
 *
 * f_θ⁻ is the current network with stop-gradient and the same dropout mask. At r = 0 the boundary condition
 * f(x, 0) = x makes the target x0 itself.
 */
import * as tf from "@tensorflow/tfjs";
import { plainAlgebra } from "../nn/algebra.js";
import type { FlowNetwork } from "../nn/network.js";
import { SIGMA_D } from "../trigflow/trigflow.js";
import { consistencyBatch, diffuseBatch } from "../trigflow/trigflow-batch.js";
import type { TimeProposal } from "../trigflow/time-proposal.js";

export interface EctConfig {
  /** log-normal proposal over EDM's σ */
  proposal: TimeProposal;
  /** the gap ratio shrinks by q each stage */
  q: number;
  k: number;
  b: number;
  /** iterations per stage (ECT: Δt halves every 25k iterations of 200k) */
  stageIterations: number;
}

export const ECT_DEFAULTS: EctConfig = { proposal: { pMean: -1.1, pStd: 2.0 }, q: 2, k: 8, b: 1, stageIterations: 100 };

/** r(σ) for the current stage, in σ units (ECT's "sigmoid" mapping). */
export function ectSmallerSigma(sigma: number, stage: number, { q, k, b }: Pick<EctConfig, "q" | "k" | "b">): number {
  const adjust = 1 + k / (1 + Math.exp(b * sigma));
  return Math.max(0, sigma * (1 - adjust / q ** (stage + 1)));
}

/** ECT's weight (σ² + σd²)/(σσd)², i.e. SNR(σ) + 1/σd². */
export function ectWeight(sigma: number, sigmaD = SIGMA_D): number {
  return (sigma * sigma + sigmaD * sigmaD) / (sigma * sigmaD) ** 2;
}

/** f_θ(x_t, t) = cos t·x_t − σd sin t·F_θ(x_t/σd, t) (Eq. 5) for per-sample t. */
export function consistencyOutput(net: FlowNetwork, xt: tf.Tensor, t: tf.Tensor, dropoutSeed: number | null, sigmaD = SIGMA_D): tf.Tensor {
  return tf.tidy(() => {
    const F = net.apply(plainAlgebra, tf.div(xt, sigmaD), t, { dropoutSeed });
    return consistencyBatch(xt, F, t, sigmaD);
  });
}

export interface EctBatch {
  x0: tf.Tensor;
  /** ε·σd: noise with the data's scale, as everywhere in TrigFlow */
  z: tf.Tensor;
  /** EDM noise levels σ per sample */
  sigmas: number[];
}

/** The ECT loss; only the f_θ(x_σ) branch carries gradient (the target is built before the closure runs). */
export function ectLossClosure(net: FlowNetwork, { x0, z, sigmas }: EctBatch, stage: number, dropoutSeed: number, config: EctConfig, sigmaD = SIGMA_D): { loss: () => tf.Scalar; dispose: () => void } {
  const toTime = (sigma: number) => Math.atan(sigma / sigmaD);
  const t = tf.tensor1d(sigmas.map(toTime));
  const tr = tf.tensor1d(sigmas.map((s) => toTime(ectSmallerSigma(s, stage, config))));
  const weight = tf.tensor1d(sigmas.map((s) => ectWeight(s, sigmaD)));
  const xt = diffuseBatch(x0, z, t);
  // Stop-gradient target: computed here, outside the tape that `loss` will run under.
  const target = tf.tidy(() => consistencyOutput(net, diffuseBatch(x0, z, tr), tr, dropoutSeed, sigmaD));
  return {
    loss: () =>
      tf.tidy(() => {
        const difference = tf.reshape(tf.sub(consistencyOutput(net, xt, t, dropoutSeed, sigmaD), target), [x0.shape[0], -1]);
        // sqrt of 0 has an infinite derivative: a tiny floor keeps the gradient finite when f already agrees.
        const distance = tf.sqrt(tf.add(tf.sum(tf.square(difference), 1), 1e-12));
        return tf.mean(tf.mul(weight, distance)) as tf.Scalar;
      }),
    dispose: () => tf.dispose([t, tr, weight, xt, target]),
  };
}
