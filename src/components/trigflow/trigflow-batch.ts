/**
 * Eqs. 3–5 of TrigFlow on a training batch: tensors of samples [B, …] with one time per sample, t: [B].
 * trigflow.ts writes the same equations for plain arrays at one time; every objective builds x_t, its
 * velocity and the consistency function from here, so the paper's formulas exist once on each side.
 */
import * as tf from "@tensorflow/tfjs";
import { SIGMA_D } from "./trigflow.js";

/**
 * The elementwise operations these formulas use, in some precision: plain TF.js ops by default; the network
 * layer's simulated fp16 (nn/half-precision.ts Arithmetic) rounds each result, for training targets computed as
 * a GPU running in half precision would.
 */
export interface ElementwiseOps {
  add(a: tf.Tensor, b: tf.Tensor): tf.Tensor;
  sub(a: tf.Tensor, b: tf.Tensor): tf.Tensor;
  mul(a: tf.Tensor, b: tf.Tensor): tf.Tensor;
  cos(a: tf.Tensor): tf.Tensor;
  sin(a: tf.Tensor): tf.Tensor;
}

/** float32: each op is exactly the TF.js op it names. */
export const FLOAT32_OPS: ElementwiseOps = {
  add: (a, b) => tf.add(a, b),
  sub: (a, b) => tf.sub(a, b),
  mul: (a, b) => tf.mul(a, b),
  cos: (a) => tf.cos(a),
  sin: (a) => tf.sin(a),
};

/** [B] → [B, 1, …] so per-sample scalars broadcast over a sample of the given rank. */
export function perSample(values: tf.Tensor, rank: number): tf.Tensor {
  return tf.reshape(values, [values.shape[0], ...new Array<number>(rank - 1).fill(1)]);
}

/**
 * x_t = cos t·x0 + sin t·z (Eq. 3), z ~ N(0, σd² I). `a` is the arithmetic (float32 unless a training target is
 * computed in simulated fp16: objectives/scm.ts).
 */
export function diffuseBatch(x0: tf.Tensor, z: tf.Tensor, t: tf.Tensor, a: ElementwiseOps = FLOAT32_OPS): tf.Tensor {
  return tf.tidy(() => a.add(a.mul(perSample(a.cos(t), x0.rank), x0), a.mul(perSample(a.sin(t), x0.rank), z)));
}

/** dx_t/dt = cos t·z − sin t·x0 for the same (x0, z) (Eq. 4): the diffusion target and sCT's tangent input. */
export function pathVelocityBatch(x0: tf.Tensor, z: tf.Tensor, t: tf.Tensor, a: ElementwiseOps = FLOAT32_OPS): tf.Tensor {
  return tf.tidy(() => a.sub(a.mul(perSample(a.cos(t), x0.rank), z), a.mul(perSample(a.sin(t), x0.rank), x0)));
}

/** f(x_t, t) = cos t·x_t − σd sin t·F (Eq. 5), for F = F_θ(x_t/σd, t) already evaluated. */
export function consistencyBatch(xt: tf.Tensor, F: tf.Tensor, t: tf.Tensor, sigmaD = SIGMA_D): tf.Tensor {
  return tf.tidy(() => tf.sub(tf.mul(perSample(tf.cos(t), xt.rank), xt), tf.mul(perSample(tf.mul(tf.sin(t), sigmaD), xt.rank), F)));
}
