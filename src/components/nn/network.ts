/**
 * What every sCM Lab network offers, and the three ways to get its Jacobian-vector product.
 *
 * A network is F_θ(u, t): u = x_t/σd is the scaled noisy input ([B, D] or NHWC images), t is TrigFlow time
 * per sample ([B]). `apply` is written once against TensorAlgebra, so:
 * - forward(): the ordinary pass, recorded by TF.js's gradient tape when run inside tf.variableGrads;
 * - jvp(): value and tangent dF = ∂F/∂u·u̇ + ∂F/∂t·ṫ in one dual pass (exact forward-mode AD).
 *
 * Stop-gradient (Alg. 1): TF.js has no stop_gradient, and needs none here. The tangent is computed by jvp()
 * *before and outside* the loss closure given to tf.variableGrads / optimizer.minimize. A tensor created
 * outside that closure is a constant to the tape, so no gradient can flow through F_θ⁻ or dF_θ⁻/dt. jvp()
 * enforces this: called while a gradient tape is recording, it throws.
 */
import * as tf from "@tensorflow/tfjs";
import { dualAlgebra, dual, plainAlgebra, type Dual, type TensorAlgebra } from "./algebra.js";
import type { ParameterSet } from "./parameters.js";
import { withoutFusedGroupNorm } from "./fused-group-norm.js";

export interface ApplyOptions {
  /** seed of this step's dropout masks; null (the default) evaluates without dropout */
  dropoutSeed?: number | null;
}

export interface FlowNetwork {
  readonly params: ParameterSet;
  /** F(u, t) in any algebra: plain for values, dual for values with tangents */
  apply<X>(alg: TensorAlgebra<X>, u: X, t: X, options?: ApplyOptions): X;
  /** the adaptive-weighting head w_φ(t) (§4.2, Eq. 8): [B] time → [B] log-weight */
  logvar(t: tf.Tensor): tf.Tensor;
  /**
   * The names of w_φ's parameters: trained only by the sCM loss with adaptive weighting, and reset when a
   * consistency model starts from a teacher (w of Eq. 8 is not the diffusion loss's).
   */
  readonly weightHeadNames: readonly string[];
  dispose(): void;
}

export function forward(net: FlowNetwork, u: tf.Tensor, t: tf.Tensor, options: ApplyOptions = {}): tf.Tensor {
  return tf.tidy(() => net.apply(plainAlgebra, u, t, options));
}

export type JvpResult = {
  /** F(u, t) */
  value: tf.Tensor;
  /** ∂F/∂u·u̇ + ∂F/∂t·ṫ */
  tangent: tf.Tensor;
};

/**
 * Exact JVP in one dual pass. Must run outside any gradient tape (its outputs are stop-gradient). `alg` is the
 * dual algebra to run it in: dualAlgebra, or halfPrecision(dualAlgebra) for an fp16 pass (§5.1).
 */
export function jvp(net: FlowNetwork, u: tf.Tensor, t: tf.Tensor, uDot: tf.Tensor, tDot: tf.Tensor, options: ApplyOptions = {}, alg: TensorAlgebra<Dual> = dualAlgebra): JvpResult {
  if (tf.engine().isTapeOn()) {
    throw new Error("jvp() ran inside a gradient tape: the sCM tangent is stop-gradient, so compute it before tf.variableGrads / optimizer.minimize");
  }
  return tf.tidy(() => {
    const out = net.apply(alg, dual(u, uDot), dual(t, tDot), options);
    return { value: out.value, tangent: out.tangent };
  });
}

/**
 * Central finite difference along the tangent, [F(u + εu̇, t + εṫ) − F(u − εu̇, t − εṫ)]/(2ε): what
 * edm2_sCM and FastGen offer when exact JVPs are unavailable. Truncation error O(ε²), round-off ≈ δ·|F|/ε
 * with δ ≈ 6e-8 in float32, hence the U-shaped error curve against ε.
 */
export function finiteDifferenceJvp(net: FlowNetwork, u: tf.Tensor, t: tf.Tensor, uDot: tf.Tensor, tDot: tf.Tensor, eps: number, options: ApplyOptions = {}): tf.Tensor {
  return tf.tidy(() => {
    const plus = net.apply(plainAlgebra, tf.add(u, tf.mul(uDot, eps)), tf.add(t, tf.mul(tDot, eps)), options);
    const minus = net.apply(plainAlgebra, tf.sub(u, tf.mul(uDot, eps)), tf.sub(t, tf.mul(tDot, eps)), options);
    return tf.div(tf.sub(plus, minus), 2 * eps);
  });
}

/**
 * The double-VJP trick, J·v = ∇_w[(Jᵀw)·v] with a dummy cotangent w: exact, but needs TF.js to
 * differentiate every op's gradient kernel, and costs two backward passes. The fused group norm's gradient kernel
 * has no gradient of its own, so this runs the composed group norm (the same function).
 */
export function doubleVjpJvp(net: FlowNetwork, u: tf.Tensor, t: tf.Tensor, uDot: tf.Tensor, tDot: tf.Tensor, options: ApplyOptions = {}): tf.Tensor {
  return withoutFusedGroupNorm(() => tf.tidy(() => {
    const F = (uu: tf.Tensor, tt: tf.Tensor) => net.apply(plainAlgebra, uu, tt, options);
    const vjp = (w: tf.Tensor) => tf.grads((uu: tf.Tensor, tt: tf.Tensor) => tf.sum(tf.mul(F(uu, tt), w)))([u, t]);
    const w0 = tf.zerosLike(F(u, t));
    return tf.grad((w: tf.Tensor) => {
      const [gu, gt] = vjp(w);
      return tf.add(tf.sum(tf.mul(gu, uDot)), tf.sum(tf.mul(gt, tDot)));
    })(w0);
  }));
}
