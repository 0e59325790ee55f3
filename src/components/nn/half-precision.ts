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
/** Smallest positive (subnormal) half: 2^−24. */
const HALF_MIN_SUBNORMAL = 2 ** -24;

/**
 * Round every element to the nearest fp16 value (ties to even, like the hardware), with overflow to ±∞
 * and gradual underflow through the subnormals. Half has 10 fraction bits, so the spacing of the grid near
 * |x| is 2^(⌊log₂|x|⌋ − 10), never below 2^−24.
 */
export function roundToHalf(x: tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    const magnitude = tf.abs(x);
    // ⌊log₂|x|⌋ from a float32 logarithm can be off by one next to powers of two: correct it both ways.
    let exponent = tf.floor(tf.div(tf.log(tf.maximum(magnitude, HALF_MIN_SUBNORMAL)), Math.LN2));
    exponent = tf.where(tf.greater(tf.pow(2, exponent), magnitude), tf.sub(exponent, 1), exponent);
    exponent = tf.where(tf.lessEqual(tf.pow(2, tf.add(exponent, 1)), magnitude), tf.add(exponent, 1), exponent);
    const spacing = tf.maximum(tf.pow(2, tf.sub(exponent, 10)), HALF_MIN_SUBNORMAL);
    const rounded = tf.mul(tf.round(tf.div(x, spacing)), spacing); // tf.round breaks ties to even
    // Values that round past 65504 overflow; NaN stays NaN.
    return tf.where(tf.greater(tf.abs(rounded), HALF_MAX), tf.mul(tf.sign(x), Infinity), rounded);
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
    conv2d: (a, filter, stride) => roundX(alg.conv2d(a, r(filter), stride)),
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
