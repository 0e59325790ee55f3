/**
 * The convolution with its bias in one kernel (nn/conv-bias.ts) equals tf.conv2d + bias in value and in the
 * gradients of image, filter and bias (CPU; test/webgpu/fused-group-norm-webgpu.test.ts runs the same on WebGPU).
 * Both compute the same sums; only the order of the bias addition within the kernel may differ: 1e-6.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { CONV_CASES, compareConvWithComposed } from "./conv-bias-check.ts";

for (const c of CONV_CASES) {
  test(`conv ${c.kernel}×${c.kernel} stride ${c.stride} with bias in one kernel = conv + bias, value and gradients`, async () => {
    const error = await compareConvWithComposed(c);
    assert.ok(error < 1e-6, `relative error ${error}`);
  });
}

test("one kernel forward, and no tensor leaks", async () => {
  const { conv2dWithBias } = await import("../src/components/nn/conv-bias.ts");
  const x = tf.ones([1, 4, 4, 2]);
  const f = tf.ones([3, 3, 2, 3]);
  const b = tf.ones([3]);
  const info = await tf.profile(() => tf.dispose(conv2dWithBias(x, f, b, 1)));
  assert.deepEqual(info.kernels.map((k) => k.name), ["FusedConv2D"]);
  await compareConvWithComposed(CONV_CASES[0]);
  const before = tf.memory().numTensors;
  await compareConvWithComposed(CONV_CASES[1]);
  assert.equal(tf.memory().numTensors, before);
  tf.dispose([x, f, b]);
});
