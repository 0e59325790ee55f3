/**
 * The analytic F* of a Gaussian mixture wrapped as a FlowNetwork: a perfect teacher for sCD and discrete
 * CMs on 2-D data, which separates the student's error from the teacher's.
 *
 * It is written with TF.js operations so that it runs where the student runs — on the GPU in a browser —
 * without reading tensors back (a synchronous read of a GPU tensor is what broke WebGPU in Chromium). The
 * float64 version in gaussian-mixture.ts is the reference it is tested against.
 *
 * For x_t = cos t·x0 + sin t·z with x0 ~ Σ π_k N(μ_k, s_k² I) and z ~ N(0, σd² I) (Eq. 1), component k gives
 * x_t ~ N(cos t·μ_k, v_k I) with v_k = cos²t·s_k² + sin²t·σd², and within it E[x0 | x_t] and E[z | x_t] are
 * linear in the residual r_k = x_t − cos t·μ_k. The velocity dx_t/dt = cos t·z − sin t·x0 (Eq. 4) then has the
 * posterior mean Σ_k p(k | x_t)·(−sin t·μ_k + cos t·sin t·(σd² − s_k²)/v_k·r_k), and F* = v*(σd·u, t)/σd.
 */
import * as tf from "@tensorflow/tfjs";
import type { TensorAlgebra } from "../nn/algebra.js";
import type { FlowNetwork } from "../nn/network.js";
import { ParameterSet } from "../nn/parameters.js";
import type { GaussianMixture } from "../trigflow/gaussian-mixture.js";
import { SIGMA_D } from "../trigflow/trigflow.js";

/** F*(u, t) for u: [B, D] and t: [B], as tensors. */
export function exactFlowTensor(mixture: GaussianMixture, u: tf.Tensor, t: tf.Tensor, sigmaD = SIGMA_D): tf.Tensor {
  return tf.tidy(() => {
    const [B, D] = u.shape;
    const K = mixture.weights.length;
    const x = tf.reshape(tf.mul(u, sigmaD), [B, 1, D]);
    const cos = tf.reshape(tf.cos(t), [B, 1]);
    const sin = tf.reshape(tf.sin(t), [B, 1]);
    const means = tf.tensor3d(mixture.means.flat(), [1, K, D]);
    const s2 = tf.tensor2d(mixture.stds.map((s) => s * s), [1, K]);
    const variance = tf.add(tf.mul(tf.square(cos), s2), tf.mul(tf.square(sin), sigmaD * sigmaD)); // v_k, [B, K]
    const residual = tf.sub(x, tf.mul(tf.reshape(cos, [B, 1, 1]), means)); // r_k, [B, K, D]
    const logPrior = tf.tensor2d(mixture.weights.map((w) => Math.log(w)), [1, K]);
    const logDensity = tf.sub(
      tf.sub(logPrior, tf.mul(0.5 * D, tf.log(tf.mul(variance, 2 * Math.PI)))),
      tf.div(tf.sum(tf.square(residual), 2), tf.mul(variance, 2)),
    );
    const posterior = tf.reshape(tf.softmax(logDensity, 1), [B, K, 1]); // p(k | x_t)
    const gain = tf.reshape(tf.div(tf.mul(tf.mul(cos, sin), tf.sub(sigmaD * sigmaD, s2)), variance), [B, K, 1]);
    const perComponent = tf.add(tf.mul(tf.reshape(tf.neg(sin), [B, 1, 1]), means), tf.mul(gain, residual));
    return tf.div(tf.sum(tf.mul(posterior, perComponent), 1), sigmaD);
  });
}

export function exactTeacher(mixture: GaussianMixture, sigmaD = SIGMA_D): FlowNetwork {
  return {
    params: new ParameterSet(),
    apply<X>(alg: TensorAlgebra<X>, u: X, t: X): X {
      if (alg.mode !== "plain") throw new Error("the exact teacher is evaluated, never differentiated");
      return exactFlowTensor(mixture, u as tf.Tensor, t as tf.Tensor, sigmaD) as X;
    },
    logvar: (t) => tf.zerosLike(t),
    weightHeadNames: [],
    dispose: () => {},
  };
}
