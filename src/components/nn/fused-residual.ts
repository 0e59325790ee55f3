/**
 * A residual connection's (a + b)·s as one TF.js kernel (kernels/scaled-add.ts) where the backend has it (CPU,
 * WASM, WebGPU; WebGL composes it). Written as tf.add then tf.mul it is two kernels, and under the gradient tape four saved copies and
 * five more kernels for its gradient; fused it saves nothing (the derivative is the constant s) and its gradient is
 * one product dy·s, given to both inputs. A UNet has a residual in every block, and sCT runs each twice (the
 * dual pass's value and tangent) and once more under the tape. Values and gradients are bit for bit those of the
 * two ops: the kernel rounds the sum, then the product, as they do.
 */
import * as tf from "@tensorflow/tfjs";
import { SCALED_ADD_KERNEL, registerCpuScaledAdd, registerWasmScaledAdd, registerWebGpuScaledAdd, type ScaledAddAttrs } from "./kernels/scaled-add.js";

registerCpuScaledAdd();
registerWasmScaledAdd();
registerWebGpuScaledAdd();

/** (a + b)·scale as one kernel, or null where the backend has no such kernel or the shapes differ (compose it then). */
export function fusedScaledAdd(a: tf.Tensor, b: tf.Tensor, scale: number): tf.Tensor | null {
  const backend = tf.getBackend();
  if (!backend || !tf.getKernel(SCALED_ADD_KERNEL, backend)) return null;
  if (a.dtype !== "float32" || b.dtype !== "float32" || !tf.util.arraysEqual(a.shape, b.shape)) return null;
  const attrs: ScaledAddAttrs = { scale };
  return tf.engine().runKernel(SCALED_ADD_KERNEL, { a, b }, attrs as unknown as tf.NamedAttrMap) as tf.Tensor;
}

tf.registerGradient({
  kernelName: SCALED_ADD_KERNEL,
  gradFunc: (dy, _saved, attrs) => {
    const d = tf.mul(dy as tf.Tensor, (attrs as unknown as ScaledAddAttrs).scale);
    // Each input gets its own tensor (the tape may dispose one input's gradient when it accumulates another).
    return { a: () => d, b: () => tf.reshape(d, d.shape) };
  },
});
