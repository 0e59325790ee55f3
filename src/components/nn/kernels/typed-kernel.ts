/** Registering a TF.js kernel function with its inputs, backend and attributes typed (TF.js types them loosely). */
import * as tf from "@tensorflow/tfjs";

/** Registers `kernel` for `kernelName` on `backendName`. */
export function registerTypedKernel<I, B, A>(kernelName: string, backendName: string, kernel: (inputs: I, backend: B, attrs: A) => tf.TensorInfo | tf.TensorInfo[]): void {
  tf.registerKernel({ kernelName, backendName, kernelFunc: ({ inputs, backend, attrs }) => kernel(inputs as unknown as I, backend as unknown as B, attrs as unknown as A) });
}
