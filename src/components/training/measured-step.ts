/**
 * One optimiser step that also measures the global gradient norm ‖∇_θ L‖₂. Tangent normalisation exists to
 * tame the variance of exactly this quantity (§4.2, Fig. 5a), so the stabilizers page plots it. TF.js's
 * optimizer.minimize hides the gradients; this computes them with tf.variableGrads and applies them itself.
 */
import * as tf from "@tensorflow/tfjs";
import { isFusedAdam } from "./fused-adam.js";
import { flatten } from "./flat-kernels.js";

export interface MeasuredStep {
  loss: tf.Scalar;
  gradientNorm: tf.Scalar;
}

/** Minimise `lossFn` over `variables` by one step of `optimizer`; the caller disposes both returned scalars. */
export function minimizeMeasuringGradient(optimizer: tf.Optimizer, lossFn: () => tf.Scalar, variables: tf.Variable[]): MeasuredStep {
  const { value, grads } = tf.variableGrads(lossFn, variables);
  // All gradients as one vector: its norm is three kernels, and FusedAdam updates from it directly.
  const gradient = flatten(variables.map((v) => grads[v.name]));
  const gradientNorm = tf.tidy(() => tf.sqrt(tf.sum(tf.square(gradient))) as tf.Scalar);
  // Not `instanceof`: tf.Optimizer answers it for any object with an optimiser's methods.
  if (isFusedAdam(optimizer)) optimizer.applyFlatGradient(gradient, variables);
  else optimizer.applyGradients(grads);
  tf.dispose([gradient, ...Object.values(grads)]);
  return { loss: value, gradientNorm };
}
