import { test } from "node:test";
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import "@tensorflow/tfjs-backend-wasm";
import { checkScaledAdd, checkScaledAddKernels } from "./scaled-add-check.ts";

for (const backend of ["cpu", "wasm"]) {
  test(`${backend}: the fused residual (a + b)·s equals tf.mul(tf.add(a, b), s) bit for bit, in value, tangent and gradients`, async () => {
    assert.ok(await tf.setBackend(backend));
    await checkScaledAdd();
  });

  test(`${backend}: the fused residual is one kernel, saves nothing for its gradient, and leaks nothing`, async () => {
    assert.ok(await tf.setBackend(backend));
    await checkScaledAddKernels();
  });
}
