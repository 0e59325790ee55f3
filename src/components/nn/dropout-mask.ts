/**
 * Dropout masks drawn where they are used (kernels/dropout-mask.ts says how and why): one kernel on the CPU, WASM
 * and WebGPU backends; elsewhere (WebGL) the same values computed in JavaScript and uploaded.
 */
import * as tf from "@tensorflow/tfjs";
import { DROPOUT_MASK_KERNEL, dropoutMaskValues, registerDropoutMaskKernels, type DropoutMaskAttrs } from "./kernels/dropout-mask.js";

registerDropoutMaskKernels();

/** The mask of `shape` for (seed, rate): 0 where a unit is dropped, 1/(1 − rate) where it is kept. */
export function dropoutMask(shape: number[], seed: number, rate: number): tf.Tensor {
  const attrs: DropoutMaskAttrs = { shape, seed, rate };
  const backend = tf.getBackend();
  if (backend && tf.getKernel(DROPOUT_MASK_KERNEL, backend)) return tf.engine().runKernel(DROPOUT_MASK_KERNEL, {}, attrs as unknown as tf.NamedAttrMap) as tf.Tensor;
  return tf.tensor(dropoutMaskValues(attrs), shape);
}
