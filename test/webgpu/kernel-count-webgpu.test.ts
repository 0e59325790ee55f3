/**
 * countKernels on TF.js's real WebGPU backend (Dawn, see setup.ts): dispatches are the GPU programs launched,
 * which differ from the engine's kernels — a concat of many tensors is one kernel but several dispatches, since a
 * WebGPU shader binds at most 8 storage buffers; a reshape is a kernel but no dispatch.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import "@tensorflow/tfjs-backend-webgpu";
import { countKernels } from "../../src/components/runtime/kernel-count.ts";

test("WebGPU: dispatches count the programs launched, not the engine's kernels", async () => {
  await tf.setBackend("webgpu");
  await tf.ready();
  // Small tensors whose values are still on the CPU would otherwise be computed there, launching nothing.
  const forward = tf.env().getBool("WEBGPU_CPU_FORWARD");
  tf.env().set("WEBGPU_CPU_FORWARD", false);
  const inputs = Array.from({ length: 20 }, (_, i) => tf.fill([4], i));
  const a = tf.tensor1d([1, 2, 3, 4]);
  const simple = await countKernels(() => tf.tidy(() => tf.add(tf.reshape(tf.mul(a, 2), [2, 2]), 1)).dispose());
  assert.equal(simple.total, 3, "Multiply, Reshape, Add");
  assert.equal(simple.dispatches, 2, "the reshape launches nothing");
  const concat = await countKernels(() => tf.concat(inputs).dispose());
  assert.equal(concat.total, 1);
  const limit = 8 - 1; // maxStorageBuffersPerShaderStage's default, minus the output
  assert.ok(concat.dispatches! >= Math.ceil(20 / limit) + 1, `a 20-input concat took ${concat.dispatches} dispatches`);
  // The backend's own method is back in place afterwards.
  const after = await countKernels(() => tf.neg(a).dispose());
  assert.equal(after.dispatches, 1);
  assert.ok(concat.dispatchesByProgram.some(([name]) => /Concat/.test(name)), JSON.stringify(concat.dispatchesByProgram));
  tf.dispose([...inputs, a]);
  tf.env().set("WEBGPU_CPU_FORWARD", forward);
});
