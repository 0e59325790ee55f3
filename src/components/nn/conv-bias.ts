/**
 * A convolution and its bias as one TF.js kernel, FusedConv2D (every backend has it): one GPU program instead of
 * two, in the forward pass and in the dual pass's value (the tangent has no bias: it is the plain convolution).
 *
 * tf.fused.conv2d wraps that kernel in tf.customGrad; this calls the kernel directly and registers an ordinary
 * gradient for it, the derivative of conv(x, W) + b: dx and dW as TF.js's Conv2D gradient computes them, and
 * db = Σ dy over the batch and the positions (what the separate bias addition's gradient summed).
 */
import * as tf from "@tensorflow/tfjs";

const FUSED_CONV = "FusedConv2D";

interface ConvAttrs {
  strides: [number, number];
  pad: "same";
  dataFormat: "NHWC";
  dilations: [number, number];
  activation: "linear";
}

/** conv(x, filter) + bias, NHWC, "same" padding. */
export function conv2dWithBias(x: tf.Tensor, filter: tf.Tensor, bias: tf.Tensor, stride: 1 | 2): tf.Tensor {
  const attrs: ConvAttrs = { strides: [stride, stride], pad: "same", dataFormat: "NHWC", dilations: [1, 1], activation: "linear" };
  return tf.engine().runKernel(FUSED_CONV, { x, filter, bias }, attrs as unknown as tf.NamedAttrMap) as tf.Tensor;
}

tf.registerGradient({
  kernelName: FUSED_CONV,
  inputsToSave: ["x", "filter"],
  gradFunc: (dy, saved, attrs) => {
    const [x, filter] = saved as [tf.Tensor4D, tf.Tensor4D];
    const { strides, pad, activation, dataFormat } = attrs as unknown as ConvAttrs;
    if (activation !== "linear" || dataFormat !== "NHWC") throw new Error(`FusedConv2D's gradient here covers linear NHWC convolutions only, got ${activation} ${dataFormat}`);
    const d = dy as tf.Tensor4D;
    // the kernels TF.js's Conv2D gradient runs (tfjs-core does not export their ops)
    const backprop = (kernel: string, inputs: tf.NamedTensorMap, shape: Record<string, number[]>) =>
      tf.engine().runKernel(kernel, inputs, { strides, pad, dataFormat, ...shape } as unknown as tf.NamedAttrMap) as tf.Tensor;
    return {
      x: () => backprop("Conv2DBackpropInput", { dy: d, filter }, { inputShape: x.shape }),
      filter: () => backprop("Conv2DBackpropFilter", { x, dy: d }, { filterShape: filter.shape }),
      bias: () => tf.sum(d, [0, 1, 2]),
    };
  },
});
