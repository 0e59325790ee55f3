/**
 * conv2dWithBias (nn/conv-bias.ts: the FusedConv2D kernel with this project's gradient) against tf.conv2d + bias:
 * value and the gradients of the image, the filter and the bias, on whatever backend is current.
 */
import * as tf from "@tensorflow/tfjs";
import { conv2dWithBias } from "../src/components/nn/conv-bias.ts";
import { relativeError } from "./fused-group-norm-check.ts";

export const CONV_CASES = [
  { x: [2, 8, 8, 3], kernel: 3, out: 5, stride: 1 },
  { x: [2, 8, 8, 4], kernel: 3, out: 6, stride: 2 },
  { x: [1, 4, 4, 6], kernel: 1, out: 2, stride: 1 },
] as const;

/** The largest relative error over the value and the three gradients. */
export async function compareConvWithComposed(c: (typeof CONV_CASES)[number], seed = 3): Promise<number> {
  const x = tf.randomNormal([...c.x], 0, 1, "float32", seed);
  const filter = tf.randomNormal([c.kernel, c.kernel, c.x[3], c.out], 0, 0.5, "float32", seed + 1);
  const bias = tf.randomNormal([c.out], 0, 1, "float32", seed + 2);
  const cotangent = tf.tidy(() => tf.randomNormal(tf.conv2d(x as tf.Tensor4D, filter as tf.Tensor4D, c.stride, "same").shape, 0, 1, "float32", seed + 3));
  const fused = (a: tf.Tensor, f: tf.Tensor, b: tf.Tensor) => conv2dWithBias(a, f, b, c.stride);
  const composed = (a: tf.Tensor, f: tf.Tensor, b: tf.Tensor) => tf.add(tf.conv2d(a as tf.Tensor4D, f as tf.Tensor4D, c.stride, "same"), b);
  const run = (f: typeof fused) => [tf.tidy(() => f(x, filter, bias)), ...tf.grads((a: tf.Tensor, w: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(f(a, w, b), cotangent)))([x, filter, bias])];
  const a = run(fused);
  const b = run(composed);
  const errors = await Promise.all(a.map((t, i) => relativeError(t, b[i])));
  tf.dispose([x, filter, bias, cotangent, a, b]);
  return Math.max(...errors);
}
