/**
 * Simulated IEEE half precision (fp16) in float32 arithmetic, to show why sCM rearranges its JVP (§5.1,
 * §5.1): every intermediate of a pass is rounded to the fp16 grid, and anything beyond the largest
 * half value (65504) becomes ±Infinity, as on a GPU running the network in fp16.
 */
import * as tf from "@tensorflow/tfjs";
import type { Dual, TensorAlgebra } from "./algebra.js";

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
