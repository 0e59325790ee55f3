/**
 * Kernels made of the active backend's own kernel functions: one trip through TF.js's engine (one entry on the
 * gradient tape, one set of saved tensors) for work that would otherwise be several kernels, with exactly the
 * backend's GPU programs and values. Registered for a backend the first time they run on it, so they work on any
 * backend that has the kernels they call.
 */
import * as tf from "@tensorflow/tfjs";

export type KernelArgs = Parameters<tf.KernelFunc>[0];

/** The backend's own kernel function `name`. */
export function backendKernel(name: string, backendName: string): tf.KernelFunc {
  const config = tf.getKernel(name, backendName);
  if (!config) throw new Error(`the ${backendName} backend has no ${name} kernel`);
  return config.kernelFunc;
}

/** The backend a kernel function runs on, as TF.js types it for kernels (its argument types it as `{}`). */
export const backendOf = (args: KernelArgs) => args.backend as tf.KernelBackend;

/**
 * Run `kernelName` on the active backend, registering it there first if needed with the kernel function that
 * `make` builds for that backend's name.
 */
export function runCompositeKernel(kernelName: string, make: (backendName: string) => tf.KernelFunc, inputs: tf.NamedTensorMap | tf.Tensor[], attrs: object = {}): tf.Tensor | tf.Tensor[] {
  const backendName = tf.getBackend();
  if (!tf.getKernel(kernelName, backendName)) tf.registerKernel({ kernelName, backendName, kernelFunc: make(backendName) });
  return tf.engine().runKernel(kernelName, inputs as unknown as tf.NamedTensorMap, attrs as unknown as tf.NamedAttrMap) as tf.Tensor | tf.Tensor[];
}
