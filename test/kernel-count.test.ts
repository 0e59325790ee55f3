import { test } from "node:test";
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { countKernels, describeKernelCount } from "../src/components/runtime/kernel-count.ts";

await tf.setBackend("cpu");

test("countKernels counts each kernel the engine runs, by name; the CPU launches no GPU programs", async () => {
  const a = tf.tensor1d([1, 2, 3]);
  const count = await countKernels(() => tf.tidy(() => tf.add(tf.mul(a, 2), tf.mul(a, 3))).dispose());
  assert.equal(count.total, 3);
  assert.deepEqual(count.byName, [["Multiply", 2], ["Add", 1]]);
  assert.equal(count.dispatches, null);
  assert.equal(describeKernelCount(count), "Multiply 2, Add 1");
  // Async work is counted to its end.
  const later = await countKernels(async () => {
    await new Promise((resolve) => setTimeout(resolve, 5));
    tf.neg(a).dispose();
  });
  assert.equal(later.total, 1);
  a.dispose();
});
