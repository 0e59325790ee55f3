/**
 * Simulated IEEE half precision (fp16) in float32 arithmetic, to show why sCM rearranges its JVP (§5.1) and
 * why discrete-time CMs degrade at large N (§4.2, App. E): every intermediate of a pass is rounded to the fp16
 * grid, and anything beyond the largest half value (65504) becomes ±Infinity, as on a GPU running the network
 * in fp16. `Arithmetic` carries the same rounding into the formulas around the network (the training targets).
 */
import * as tf from "@tensorflow/tfjs";
import { dualAlgebra, plainAlgebra, type Dual, type TensorAlgebra } from "./algebra.js";
import type { ElementwiseOps } from "../trigflow/trigflow-batch.js";

/** Largest finite half-precision value. */
export const HALF_MAX = 65504;
/** Below this magnitude (2^−14, the smallest normal half) the fp16 grid has the fixed spacing 2^−24. */
const HALF_MIN_NORMAL = 2 ** -14;
/** From this magnitude on, rounding goes past 65504 (65520 is the tie with 2^16, and ties go to even: ∞). */
const HALF_OVERFLOW = 65520;
/**
 * Veltkamp's splitting constant for float32 (24 significand bits): c = (2^13 + 1)·x, then c − (c − x) is x rounded
 * to nearest with 24 − 13 = 11 significand bits: the fp16 significand (1 implicit + 10 fraction bits).
 */
const VELTKAMP_SPLIT = 2 ** 13 + 1;
/** Adding 0.75 puts any |x| < 2^−14 into [0.5, 1), where float32's spacing is 2^−24: the subnormal fp16 grid. */
const SUBNORMAL_SHIFT = 0.75;

/**
 * Round every element to the nearest fp16 value (ties to even, like the hardware), with overflow to ±∞
 * and gradual underflow through the subnormals. Only float32 additions and multiplications, each correctly
 * rounded on every TF.js backend, so the result is exact on GPUs too, in 11 elementwise kernels (a version with
 * log₂ and powers of two needed 25, and GPUs evaluate those approximately).
 */
export function roundToHalf(x: tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    // Normal range: Veltkamp's splitting (Dekker 1971) keeps the 11 leading significand bits, rounding to nearest.
    const scaled = tf.mul(x, VELTKAMP_SPLIT);
    const normal = tf.sub(scaled, tf.sub(scaled, x));
    // Subnormal range: rounding to a multiple of 2^−24, which float32 does itself when 0.75 is added and taken away.
    const subnormal = tf.sub(tf.add(x, SUBNORMAL_SHIFT), SUBNORMAL_SHIFT);
    const magnitude = tf.abs(x);
    const rounded = tf.where(tf.less(magnitude, HALF_MIN_NORMAL), subnormal, normal);
    // Beyond the largest half the value overflows to ±∞ (NaN stays NaN: every comparison with it is false).
    return tf.where(tf.greaterEqual(magnitude, HALF_OVERFLOW), tf.mul(x, Infinity), rounded);
  });
}

/**
 * Wrap an algebra so every operation's result (value and tangent alike) and every weight it reads is
 * rounded to half precision. Internals of an op (e.g. a matmul's accumulation) stay in float32, like
 * tensor cores that accumulate fp16 products in fp32.
 */
export function halfPrecision<X>(alg: TensorAlgebra<X>): TensorAlgebra<X> {
  const roundX = (x: X): X =>
    alg.mode === "dual"
      ? ({ value: roundToHalf((x as Dual).value), tangent: roundToHalf((x as Dual).tangent) } as X)
      : (roundToHalf(x as tf.Tensor) as X);
  const r = roundToHalf;
  return {
    mode: alg.mode,
    add: (a, b) => roundX(alg.add(a, b)),
    sub: (a, b) => roundX(alg.sub(a, b)),
    mul: (a, b) => roundX(alg.mul(a, b)),
    scale: (a, c) => roundX(alg.scale(a, c)),
    mulConst: (a, c) => roundX(alg.mulConst(a, r(c))),
    addConst: (a, c) => roundX(alg.addConst(a, r(c))),
    matMulConst: (a, w) => roundX(alg.matMulConst(a, r(w))),
    matMul: (a, b, ta, tb) => roundX(alg.matMul(a, b, ta, tb)),
    // rounded after the convolution and after the bias, as the two operations it stands for
    conv2d: (a, filter, stride, bias) => {
      const y = roundX(alg.conv2d(a, r(filter), stride));
      return bias ? roundX(alg.addConst(y, r(bias))) : y;
    },
    reshape: (a, shape) => alg.reshape(a, shape),
    transpose: (a, perm) => alg.transpose(a, perm),
    concat: (xs, axis) => alg.concat(xs, axis),
    split: (a, parts, axis) => alg.split(a, parts, axis),
    mean: (a, axes, keepDims) => roundX(alg.mean(a, axes, keepDims)),
    upsampleNearest2x: (a) => alg.upsampleNearest2x(a),
    unary: (a, f, df) => roundX(alg.unary(a, (x) => r(f(x)), (x, fx) => r(df(x, fx)))),
    softmax: (a) => roundX(alg.softmax(a)),
    normalizeGroups: (a, eps) => roundX(alg.normalizeGroups(a, eps)),
    shape: (a) => alg.shape(a),
  };
}

/** The precision of a computation: float32, or fp16 simulated by rounding every intermediate (roundToHalf). */
export type Precision = "float32" | "half";

/** A tensor, or a number that the op turns into a scalar tensor (as tf.mul(x, 2) does). */
type Operand = tf.Tensor | number;

/**
 * Elementwise arithmetic and network passes in one precision, so that a formula (x_t, the sCM and discrete
 * tangents, the teacher's DDIM step) is written once for both. Every result goes through `round`: the
 * identity in float32, where each method is exactly the tf op it names (same ops, same order, same bits as
 * plain tf calls), and roundToHalf in half precision, as a GPU storing every intermediate in fp16 would.
 * In half precision a number operand is rounded to fp16 too (a constant of an fp16 kernel is an fp16 value).
 */
export interface Arithmetic extends ElementwiseOps {
  readonly precision: Precision;
  /** round a tensor to this precision: for inputs entering the computation, and outputs of foreign code */
  round(x: tf.Tensor): tf.Tensor;
  add(a: Operand, b: Operand): tf.Tensor;
  sub(a: Operand, b: Operand): tf.Tensor;
  mul(a: Operand, b: Operand): tf.Tensor;
  div(a: Operand, b: Operand): tf.Tensor;
  neg(a: tf.Tensor): tf.Tensor;
  square(a: tf.Tensor): tf.Tensor;
  cos(a: tf.Tensor): tf.Tensor;
  sin(a: tf.Tensor): tf.Tensor;
  /** network passes in this precision: plainAlgebra or halfPrecision(plainAlgebra) */
  readonly plain: TensorAlgebra<tf.Tensor>;
  /** JVP passes in this precision: dualAlgebra or halfPrecision(dualAlgebra) */
  readonly dual: TensorAlgebra<Dual>;
}

function arithmetic(precision: Precision): Arithmetic {
  const round = precision === "half" ? roundToHalf : (x: tf.Tensor) => x;
  // float32 passes numbers through untouched, so its ops are literally tf.op(a, b).
  const operand = (a: Operand): Operand => (typeof a === "number" && precision === "half" ? roundToHalf(tf.scalar(a)) : a);
  const binary = (op: (a: Operand, b: Operand) => tf.Tensor) => (a: Operand, b: Operand) => round(op(operand(a), operand(b)));
  const unary = (op: (a: tf.Tensor) => tf.Tensor) => (a: tf.Tensor) => round(op(a));
  return {
    precision,
    round,
    add: binary((a, b) => tf.add(a, b)),
    sub: binary((a, b) => tf.sub(a, b)),
    mul: binary((a, b) => tf.mul(a, b)),
    div: binary((a, b) => tf.div(a, b)),
    neg: unary((a) => tf.neg(a)),
    square: unary((a) => tf.square(a)),
    cos: unary((a) => tf.cos(a)),
    sin: unary((a) => tf.sin(a)),
    plain: precision === "half" ? halfPrecision(plainAlgebra) : plainAlgebra,
    dual: precision === "half" ? halfPrecision(dualAlgebra) : dualAlgebra,
  };
}

/** Plain float32 arithmetic: the default of every formula that takes an Arithmetic. */
export const FLOAT32_ARITHMETIC: Arithmetic = arithmetic("float32");
/** Simulated fp16: every result rounded to half precision. */
export const HALF_ARITHMETIC: Arithmetic = arithmetic("half");

export function arithmeticFor(precision: Precision = "float32"): Arithmetic {
  return precision === "half" ? HALF_ARITHMETIC : FLOAT32_ARITHMETIC;
}
