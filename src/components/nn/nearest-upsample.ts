/**
 * Nearest-neighbour 2× upsampling of NHWC images (each output pixel copies the input pixel at half its
 * coordinates) as one kernel, ScmUpsample2x: the backend's own ResizeNearestNeighbor kernel function inside
 * (kernels/composite-kernel.ts). Its gradient, the sum over each 2×2 block, is a reshape and a sum written here,
 * which TF.js can differentiate again (double-VJP checks go through it), and not TF.js's ResizeNearestNeighborGrad:
 * the CPU backend's (tfjs-backend-cpu 4.22) is wrong for batches of more than one image (measured: for two 1×1
 * images upsampled to 2×2 it gives the second image 19 where the block sum is 100). Composed instead from a reshape,
 * a broadcast product with ones and a reshape, upsampling was three kernels and eight more with its gradient.
 */
import * as tf from "@tensorflow/tfjs";
import { backendKernel, runCompositeKernel, type KernelArgs } from "./kernels/composite-kernel.js";

const UPSAMPLE = "ScmUpsample2x";

export function upsampleNearest2x(x: tf.Tensor): tf.Tensor {
  if (x.rank !== 4) throw new Error(`upsampleNearest2x takes NHWC images, got shape [${x.shape}]`);
  return runCompositeKernel(UPSAMPLE, upsampleKernel, { x }) as tf.Tensor;
}

function upsampleKernel(backendName: string): tf.KernelFunc {
  return ({ inputs, backend }: KernelArgs) => {
    const x = inputs.x!;
    const attrs = { size: [2 * x.shape[1], 2 * x.shape[2]], alignCorners: false, halfPixelCenters: false };
    return backendKernel("ResizeNearestNeighbor", backendName)({ inputs: { images: x }, backend, attrs });
  };
}

tf.registerGradient({
  kernelName: UPSAMPLE,
  gradFunc: (dy) => {
    const [b, h, w, c] = (dy as tf.Tensor).shape;
    return { x: () => tf.sum(tf.reshape(dy as tf.Tensor, [b, h / 2, 2, w / 2, 2, c]), [2, 4]) };
  },
});
