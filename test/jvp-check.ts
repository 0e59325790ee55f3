/**
 * Checks that a function written against TensorAlgebra has an exact JVP: the dual pass's value equals the
 * plain pass, its tangent is linear in the input tangents, agrees with a Richardson-extrapolated central
 * finite difference, and (where TF.js can differentiate twice) with the double-VJP.
 */
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { withoutFusedGroupNorm } from "../src/components/nn/fused-group-norm.ts";
import { dualAlgebra, plainAlgebra, type Dual, type TensorAlgebra } from "../src/components/nn/algebra.ts";

export type MultiInput = <X>(alg: TensorAlgebra<X>, inputs: X[]) => X;

export function dualPass(fn: MultiInput, inputs: tf.Tensor[], tangents: tf.Tensor[]): Dual {
  return fn(dualAlgebra, inputs.map((value, i) => ({ value, tangent: tangents[i] })));
}

function maxAbs(x: tf.Tensor): number {
  return tf.tidy(() => tf.max(tf.abs(x)).dataSync()[0]);
}

function maxAbsDiff(a: tf.Tensor, b: tf.Tensor): number {
  return tf.tidy(() => maxAbs(tf.sub(a, b)));
}

/** Central difference along the tangents with step h. */
function centralDifference(fn: MultiInput, inputs: tf.Tensor[], tangents: tf.Tensor[], h: number): tf.Tensor {
  return tf.tidy(() => {
    const shifted = (sign: number) => fn(plainAlgebra, inputs.map((x, i) => tf.add(x, tf.mul(tangents[i], sign * h))));
    return tf.div(tf.sub(shifted(1), shifted(-1)), 2 * h);
  });
}

/**
 * Richardson extrapolation (4·D(h/2) − D(h))/3 cancels the h² term of the central difference, leaving
 * O(h⁴) truncation. In float32 the round-off of D(h/2) is about δ·|F|/(h/2) with δ the accumulated
 * relative error of the pass (≈1e-6 for a few dozen float32 ops), so with h = 0.02 the estimate is good
 * to ~1e-4·|F| plus ~1e-7·|F⁽⁵⁾|: far below the O(|J|) error any wrong derivative rule produces.
 */
export function richardsonJvp(fn: MultiInput, inputs: tf.Tensor[], tangents: tf.Tensor[], h = 0.02): tf.Tensor {
  return tf.tidy(() => tf.div(tf.sub(tf.mul(centralDifference(fn, inputs, tangents, h / 2), 4), centralDifference(fn, inputs, tangents, h)), 3));
}

/**
 * J·v by differentiating the VJP with respect to its cotangent (exact; two reverse passes). Second derivatives
 * need the composed group norm (the fused kernel's gradient has no gradient): the same function.
 */
export function doubleVjp(fn: MultiInput, inputs: tf.Tensor[], tangents: tf.Tensor[]): tf.Tensor {
  return withoutFusedGroupNorm(() => tf.tidy(() => {
    const f = (...xs: tf.Tensor[]) => fn(plainAlgebra, xs);
    const w0 = tf.zerosLike(f(...inputs));
    return tf.grad((w: tf.Tensor) => {
      const grads = tf.grads((...xs: tf.Tensor[]) => tf.sum(tf.mul(f(...xs), w)))(inputs);
      return grads.map((g, i) => tf.sum(tf.mul(g, tangents[i]))).reduce((a, b) => tf.add(a, b));
    })(w0);
  }));
}

export interface JvpCheckOptions {
  /** relative tolerance against the finite difference (relative to max |J|, |F| and 1) */
  fdTol?: number;
  /** also compare with the double-VJP */
  doubleVjp?: boolean;
  h?: number;
  seed?: number;
}

export function checkJvp(name: string, fn: MultiInput, inputs: tf.Tensor[], { fdTol = 1e-3, doubleVjp: useDoubleVjp = true, h = 0.02, seed = 99 }: JvpCheckOptions = {}): void {
  tf.tidy(() => {
    const v1 = inputs.map((x, i) => tf.randomNormal(x.shape, 0, 1, "float32", seed + i));
    const v2 = inputs.map((x, i) => tf.randomNormal(x.shape, 0, 1, "float32", seed + 50 + i));
    const dual1 = dualPass(fn, inputs, v1);
    const plain = fn(plainAlgebra, inputs);
    const scale = Math.max(1, maxAbs(dual1.tangent), maxAbs(plain));

    // The dual pass computes the value with the very same ops as the plain pass.
    assert.equal(maxAbsDiff(dual1.value, plain), 0, `${name}: dual value differs from the plain pass`);

    // Linearity in the tangent: J(2v₁ − 3v₂) = 2Jv₁ − 3Jv₂ up to float32 round-off of a few ops (1e-5·scale).
    const dual2 = dualPass(fn, inputs, v2);
    const combined = dualPass(fn, inputs, v1.map((v, i) => tf.sub(tf.mul(v, 2), tf.mul(v2[i], 3))));
    const linearError = maxAbsDiff(combined.tangent, tf.sub(tf.mul(dual1.tangent, 2), tf.mul(dual2.tangent, 3)));
    assert.ok(linearError <= 1e-5 * 5 * scale, `${name}: not linear in the tangent (error ${linearError}, scale ${scale})`);

    const fdError = maxAbsDiff(dual1.tangent, richardsonJvp(fn, inputs, v1, h));
    assert.ok(fdError <= fdTol * scale, `${name}: JVP vs finite difference error ${fdError} > ${fdTol}·${scale}`);

    if (useDoubleVjp) {
      // Both exact; they differ only by float32 round-off accumulated along two different op orders.
      const vjpError = maxAbsDiff(dual1.tangent, doubleVjp(fn, inputs, v1));
      assert.ok(vjpError <= 1e-4 * scale, `${name}: JVP vs double-VJP error ${vjpError} > 1e-4·${scale}`);
    }
  });
}
