import { test } from "node:test";
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import "@tensorflow/tfjs-backend-wasm";
import { flatten, unflatten } from "../src/components/training/flat-kernels.ts";
import { checkGradients, checkNoLeaks, checkValues } from "./flat-kernels-check.ts";

// The kernels call the active backend's own Reshape, Concat and SplitV: CPU here, and WASM, which the toy runs may use.
async function use(backend: string): Promise<void> {
  assert.ok(await tf.setBackend(backend), `the ${backend} backend starts`);
  assert.equal(tf.getBackend(), backend);
}

for (const backend of ["cpu", "wasm"]) {
  test(`${backend}: flatten is concat of the reshaped tensors, unflatten its inverse, each one kernel`, async () => {
    await use(backend);
    await checkValues();
  });
  test(`${backend}: flatten and unflatten leak nothing`, async () => {
    await use(backend);
    await checkNoLeaks();
  });
  test(`${backend}: their gradients are each other (against the composed ops)`, async () => {
    await use(backend);
    await checkGradients();
  });
}

test("wrong sizes are refused with a message", async () => {
  await tf.setBackend("cpu");
  const v = tf.zeros([5]) as tf.Tensor1D;
  assert.throws(() => unflatten(v, [[2, 2]]), /a vector of 5 values for shapes of 4/);
  assert.throws(() => flatten([]), /no tensors/);
  v.dispose();
});
