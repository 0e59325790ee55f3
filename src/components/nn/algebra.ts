/**
 * One set of tensor operations, two meanings. Every layer in sCM Lab is written once against
 * `TensorAlgebra<X>`; run it with `plainAlgebra` (X = tf.Tensor) for an ordinary forward pass, or with
 * `dualAlgebra` (X = Dual, a value with its tangent) for a forward pass that also carries a
 * Jacobian-vector product. Each dual operation applies the derivative rule of its primitive, so the
 * tangent of a whole network is exact by construction (forward-mode automatic differentiation), and the
 * plain and dual passes cannot drift apart.
 *
 * Conventions: images are NHWC, per-sample vectors are [B, C]. "Const" operands (weights, masks) carry
 * no tangent: sCM needs the JVP with respect to the network's *inputs* (image and time), not its weights.
 */
import * as tf from "@tensorflow/tfjs";
import { conv2dWithBias } from "./conv-bias.js";
import { fusedScaledAdd } from "./fused-residual.js";
import { upsampleNearest2x as upsample } from "./nearest-upsample.js";
import {
  fusedAdaptiveNorm, fusedAdaptiveNormTangent, fusedGroupNorm, fusedGroupNormAvailable, fusedGroupNormTangent, type AdaptiveNormAffine, type GroupNormAttrs,
} from "./fused-group-norm.js";

export interface TensorAlgebra<X> {
  readonly mode: "plain" | "dual";
  add(a: X, b: X): X;
  sub(a: X, b: X): X;
  /** elementwise product (product rule in dual mode) */
  mul(a: X, b: X): X;
  scale(a: X, c: number): X;
  /** a ⊙ c for a tensor c without tangent: a weight, a dropout mask, a fixed frequency table */
  mulConst(a: X, c: tf.Tensor): X;
  /** a + c for a tensor c without tangent: a bias */
  addConst(a: X, c: tf.Tensor): X;
  /** [B, n] × weight [n, m] */
  matMulConst(a: X, w: tf.Tensor): X;
  /** batched product of two variable operands [b, n, k] × [b, k, m] */
  matMul(a: X, b: X, transposeA?: boolean, transposeB?: boolean): X;
  /** NHWC convolution with a [k, k, in, out] filter, "same" padding, plus a per-channel bias if given (no tangent) */
  conv2d(a: X, filter: tf.Tensor, stride: 1 | 2, bias?: tf.Tensor): X;
  reshape(a: X, shape: number[]): X;
  transpose(a: X, perm: number[]): X;
  concat(xs: X[], axis: number): X;
  split(a: X, parts: number, axis: number): X[];
  mean(a: X, axes: number[], keepDims: boolean): X;
  /** nearest-neighbour 2× upsampling of NHWC images */
  upsampleNearest2x(a: X): X;
  /**
   * An elementwise function f with derivative df. df receives x and f(x), so functions like SiLU can reuse
   * f(x) instead of recomputing it; the plain pass never calls df.
   */
  unary(a: X, f: (x: tf.Tensor) => tf.Tensor, df: (x: tf.Tensor, fx: tf.Tensor) => tf.Tensor): X;
  /** softmax over the last axis */
  softmax(a: X): X;
  /**
   * Normalise x of shape [B, S, G, C/G] to zero mean and unit variance over axes 1 and 3 (group norm's
   * core). A primitive rather than a composition so the dual pass can reuse the normalised value and the
   * inverse standard deviation in its closed-form tangent.
   */
  normalizeGroups(a: X, eps: number): X;
  /**
   * act(group norm(a)·scale + shift) on NHWC images or [B, C] vectors as one fused kernel (fused-group-norm.ts), or null where the
   * backend has none, for other shapes, or in an algebra without it (half precision): the caller then composes
   * the same function from the primitives above (layers.ts, normalizeAffine).
   */
  fusedGroupNorm?(a: X, affine: GroupAffine<X>, attrs: GroupNormAttrs): X | null;
  /**
   * (a + b)·c, a residual connection, as one kernel (fused-residual.ts), or null where the backend has none or in
   * an algebra without it (half precision): the caller then composes scale(add(a, b), c) (layers.ts, residual).
   */
  scaledAdd?(a: X, b: X, c: number): X | null;
  shape(a: X): number[];
}

/**
 * The scale and shift after a group norm: per channel and constant (GroupNorm's γ and β, [C]); per sample and
 * varying with time ([B, C] each, with a tangent in the dual algebra); or packed, the time-adaptive norm's dense
 * output [s, b] ([B, 2C]) that becomes the scale and shift by `norm` (pixel norms or 1 + s, §4.1).
 */
export type GroupAffine<X> =
  | { kind: "const"; scale: tf.Tensor; shift: tf.Tensor }
  | { kind: "varying"; scale: X; shift: X }
  | { kind: "packed"; affine: X; norm: AdaptiveNormAffine };

/** Whether a group norm of `shape` (NHWC images, or [B, C] vectors) runs fused here. */
const fusable = (shape: readonly number[]) => (shape.length === 4 || shape.length === 2) && fusedGroupNormAvailable();

/** A value with its tangent (directional derivative), of the same shape. */
export interface Dual {
  value: tf.Tensor;
  tangent: tf.Tensor;
}

export function dual(value: tf.Tensor, tangent: tf.Tensor): Dual {
  if (!tf.util.arraysEqual(value.shape, tangent.shape)) {
    throw new RangeError(`a tangent must have its value's shape: ${value.shape} vs ${tangent.shape}`);
  }
  return { value, tangent };
}

const transposedMatMul = (a: tf.Tensor, b: tf.Tensor, ta = false, tb = false) => tf.matMul(a as tf.Tensor3D, b as tf.Tensor3D, ta, tb);

export const plainAlgebra: TensorAlgebra<tf.Tensor> = {
  mode: "plain",
  add: (a, b) => tf.add(a, b),
  sub: (a, b) => tf.sub(a, b),
  mul: (a, b) => tf.mul(a, b),
  scale: (a, c) => tf.mul(a, c),
  mulConst: (a, c) => tf.mul(a, c),
  addConst: (a, c) => tf.add(a, c),
  matMulConst: (a, w) => tf.matMul(a as tf.Tensor2D, w as tf.Tensor2D),
  matMul: transposedMatMul,
  conv2d: (a, filter, stride, bias) => (bias ? conv2dWithBias(a, filter, bias, stride) : tf.conv2d(a as tf.Tensor4D, filter as tf.Tensor4D, stride, "same")),
  reshape: (a, shape) => tf.reshape(a, shape),
  transpose: (a, perm) => tf.transpose(a, perm),
  concat: (xs, axis) => tf.concat(xs, axis),
  split: (a, parts, axis) => tf.split(a, parts, axis),
  mean: (a, axes, keepDims) => tf.mean(a, axes, keepDims),
  upsampleNearest2x: (a) => upsample(a),
  unary: (a, f) => f(a),
  softmax: (a) => tf.softmax(a),
  normalizeGroups: (a, eps) => normalizeGroups(a, eps).y,
  fusedGroupNorm: (a, affine, attrs) => {
    if (!fusable(a.shape)) return null;
    return affine.kind === "packed" ? fusedAdaptiveNorm(a, affine.affine, { ...attrs, norm: affine.norm }) : fusedGroupNorm(a, affine.scale, affine.shift, attrs);
  },
  scaledAdd: (a, b, c) => fusedScaledAdd(a, b, c),
  shape: (a) => a.shape,
};

/** y = (x − μ)·r with μ, σ² the mean and variance over axes 1 and 3, and r = 1/√(σ² + ε). */
function normalizeGroups(x: tf.Tensor, eps: number): { y: tf.Tensor; r: tf.Tensor } {
  const { mean, variance } = tf.moments(x, [1, 3], true);
  const r = tf.rsqrt(tf.add(variance, eps));
  return { y: tf.mul(tf.sub(x, mean), r), r };
}

/** Both parts through the same linear map: the derivative of a linear map is the map itself. */
function linear(a: Dual, map: (x: tf.Tensor) => tf.Tensor): Dual {
  return { value: map(a.value), tangent: map(a.tangent) };
}

export const dualAlgebra: TensorAlgebra<Dual> = {
  mode: "dual",
  add: (a, b) => ({ value: tf.add(a.value, b.value), tangent: tf.add(a.tangent, b.tangent) }),
  sub: (a, b) => ({ value: tf.sub(a.value, b.value), tangent: tf.sub(a.tangent, b.tangent) }),
  // (ab)' = a'b + ab'
  mul: (a, b) => ({ value: tf.mul(a.value, b.value), tangent: tf.add(tf.mul(a.tangent, b.value), tf.mul(a.value, b.tangent)) }),
  scale: (a, c) => linear(a, (x) => tf.mul(x, c)),
  mulConst: (a, c) => linear(a, (x) => tf.mul(x, c)),
  // a bias has no tangent, so it shifts only the value
  addConst: (a, c) => ({ value: tf.add(a.value, c), tangent: a.tangent }),
  matMulConst: (a, w) => linear(a, (x) => tf.matMul(x as tf.Tensor2D, w as tf.Tensor2D)),
  // (AB)' = A'B + AB', with the same transposes
  matMul: (a, b, ta = false, tb = false) => ({
    value: transposedMatMul(a.value, b.value, ta, tb),
    tangent: tf.add(transposedMatMul(a.tangent, b.value, ta, tb), transposedMatMul(a.value, b.tangent, ta, tb)),
  }),
  // the bias shifts only the value
  conv2d: (a, filter, stride, bias) => ({
    value: bias ? conv2dWithBias(a.value, filter, bias, stride) : tf.conv2d(a.value as tf.Tensor4D, filter as tf.Tensor4D, stride, "same"),
    tangent: tf.conv2d(a.tangent as tf.Tensor4D, filter as tf.Tensor4D, stride, "same"),
  }),
  reshape: (a, shape) => linear(a, (x) => tf.reshape(x, shape)),
  transpose: (a, perm) => linear(a, (x) => tf.transpose(x, perm)),
  concat: (xs, axis) => ({ value: tf.concat(xs.map((x) => x.value), axis), tangent: tf.concat(xs.map((x) => x.tangent), axis) }),
  split: (a, parts, axis) => {
    const values = tf.split(a.value, parts, axis);
    const tangents = tf.split(a.tangent, parts, axis);
    return values.map((value, i) => ({ value, tangent: tangents[i] }));
  },
  mean: (a, axes, keepDims) => linear(a, (x) => tf.mean(x, axes, keepDims)),
  upsampleNearest2x: (a) => linear(a, upsample),
  // f(x)' = f'(x)·x'
  unary: (a, f, df) => {
    const value = f(a.value);
    return { value, tangent: tf.mul(df(a.value, value), a.tangent) };
  },
  // p = softmax(s):  p' = p ⊙ (s' − Σ_j p_j s'_j)   (the attention JVP, §5.1)
  softmax: (a) => {
    const p = tf.softmax(a.value);
    const weighted = tf.sum(tf.mul(p, a.tangent), -1, true);
    return { value: p, tangent: tf.mul(p, tf.sub(a.tangent, weighted)) };
  },
  // y = (x − μ)r ⇒ ẏ = r·[(ẋ − μ̇) − y·mean(y·(ẋ − μ̇))], using ṙ = −r³·mean((x − μ)(ẋ − μ̇)).
  normalizeGroups: (a, eps) => {
    const { y, r } = normalizeGroups(a.value, eps);
    const centred = tf.sub(a.tangent, tf.mean(a.tangent, [1, 3], true));
    const projection = tf.mean(tf.mul(y, centred), [1, 3], true);
    return { value: y, tangent: tf.mul(tf.sub(centred, tf.mul(y, projection)), r) };
  },
  fusedGroupNorm: (a, affine, attrs) => {
    if (!fusable(a.value.shape)) return null;
    if (affine.kind === "packed") {
      const packedAttrs = { ...attrs, norm: affine.norm };
      const { value, tangent } = affine.affine;
      return { value: fusedAdaptiveNorm(a.value, value, packedAttrs), tangent: fusedAdaptiveNormTangent(a.value, a.tangent, value, tangent, packedAttrs) };
    }
    const [scale, shift, scaleDot, shiftDot] =
      affine.kind === "const" ? [affine.scale, affine.shift, null, null] : [affine.scale.value, affine.shift.value, affine.scale.tangent, affine.shift.tangent];
    return { value: fusedGroupNorm(a.value, scale, shift, attrs), tangent: fusedGroupNormTangent(a.value, a.tangent, scale, shift, scaleDot, shiftDot, attrs) };
  },
  // linear: the tangent is the same map of the tangents (value and tangent have one shape, so both fuse or neither)
  scaledAdd: (a, b, c) => {
    const value = fusedScaledAdd(a.value, b.value, c);
    return value ? { value, tangent: fusedScaledAdd(a.tangent, b.tangent, c)! } : null;
  },
  shape: (a) => a.value.shape,
};
