import { test } from "node:test";
import * as tf from "@tensorflow/tfjs";
import { checkScaledAdd, checkScaledAddKernels } from "./scaled-add-check.ts";

await tf.setBackend("cpu");

test("CPU: the fused residual (a + b)·s equals tf.mul(tf.add(a, b), s) bit for bit, in value, tangent and gradients", async () => {
  await checkScaledAdd();
});

test("CPU: the fused residual is one kernel, saves nothing for its gradient, and leaks nothing", async () => {
  await checkScaledAddKernels();
});
