/**
 * The same small UNet gives the same value and tangent on TF.js's CPU backend and on its real WebGPU
 * kernels (WGSL shaders run by Dawn on a software Vulkan driver), within float32 tolerance.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import "@tensorflow/tfjs-backend-webgpu";
import { SmallUNet } from "../../src/components/nn/unet.ts";
import { jvp } from "../../src/components/nn/network.ts";
import { selectBackend } from "../../src/components/runtime/backend.ts";

async function jvpOn(backend: "cpu" | "webgpu", net: SmallUNet, inputs: tf.Tensor[]) {
  assert.ok(await tf.setBackend(backend), `backend ${backend} is available`);
  // Fresh copies of the inputs on this backend; the parameters migrate on first use.
  const [u, t, uDot, tDot] = inputs.map((x) => tf.tensor(x.dataSync(), x.shape));
  const { value, tangent } = jvp(net, u, t, uDot, tDot, { dropoutSeed: 3 });
  const out = { value: Float32Array.from(await value.data()), tangent: Float32Array.from(await tangent.data()) };
  tf.dispose([u, t, uDot, tDot, value, tangent]);
  return out;
}

test("the backend selector picks WebGPU when an adapter exists", async () => {
  const report = await selectBackend();
  assert.equal(report.active, "webgpu", report.summary);
});

test("UNet value and tangent agree between the CPU and WebGPU backends", async () => {
  await tf.setBackend("cpu");
  const net = new SmallUNet({ resolution: 8, baseChannels: 8, channelMult: [1, 2], attentionResolutions: [4], outputGain: 1, dropout: 0.1 });
  const inputs = [
    tf.randomNormal([2, 8, 8, 3], 0, 1, "float32", 1),
    tf.tensor1d([0.3, 1.2]),
    tf.randomNormal([2, 8, 8, 3], 0, 1, "float32", 2),
    tf.tensor1d([1, -0.5]),
  ];
  const cpu = await jvpOn("cpu", net, inputs);
  const gpu = await jvpOn("webgpu", net, inputs);
  const maxDiff = (a: Float32Array, b: Float32Array) => a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i])), 0);
  const scale = (a: Float32Array) => a.reduce((m, v) => Math.max(m, Math.abs(v)), 1);
  // WGSL only promises sin/cos to an absolute 2^-11 ≈ 5e-4 on [−π, π] (and exp to a few ULP), and the time
  // embedding is made of sines and cosines; measured: 1.2e-4 (value) and 1.4e-4 (tangent) relative to
  // the largest entry. 2e-3 leaves room for other drivers and still sits 500× below an O(1) error.
  assert.ok(maxDiff(cpu.value, gpu.value) <= 2e-3 * scale(cpu.value), `values differ by ${maxDiff(cpu.value, gpu.value)}`);
  assert.ok(maxDiff(cpu.tangent, gpu.tangent) <= 2e-3 * scale(cpu.tangent), `tangents differ by ${maxDiff(cpu.tangent, gpu.tangent)}`);
  assert.ok(scale(cpu.tangent) > 1e-2, "the tangent is not trivially small");
  await tf.setBackend("cpu");
  net.dispose();
});
