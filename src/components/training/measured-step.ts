/**
 * One optimiser step that also measures the global gradient norm ‖∇_θ L‖₂. Tangent normalisation exists to
 * tame the variance of exactly this quantity (§4.2, Fig. 5a), so the stabilizers page plots it. TF.js's
 * optimizer.minimize hides the gradients; this computes them with tf.variableGrads and applies them itself.
 */
import * as tf from "@tensorflow/tfjs";

export interface MeasuredStep {
  loss: tf.Scalar;
  gradientNorm: tf.Scalar;
}

/** Minimise `lossFn` over `variables` by one step of `optimizer`; the caller disposes both returned scalars. */
export function minimizeMeasuringGradient(optimizer: tf.Optimizer, lossFn: () => tf.Scalar, variables: tf.Variable[]): MeasuredStep {
  const { value, grads } = tf.variableGrads(lossFn, variables);
  // Summed pairwise, not with tf.addN: WebGPU binds every input of one kernel as a storage buffer, and real GPUs
  // allow 8 per shader stage by default (a UNet has ~200 variables). test/webgpu/image-training-webgpu.test.ts catches it.
  const gradientNorm = tf.tidy(() => tf.sqrt(Object.values(grads).reduce<tf.Tensor>((total, g) => tf.add(total, tf.sum(tf.square(g))), tf.scalar(0))) as tf.Scalar);
  optimizer.applyGradients(grads);
  tf.dispose(Object.values(grads));
  return { loss: value, gradientNorm };
}
