/**
 * roundToHalf on TF.js's WebGPU backend (Dawn, see setup.ts) equals the exact fp16 reference bit for bit: it uses
 * only float32 additions, multiplications and comparisons, which a GPU rounds correctly, so the simulated fp16 of
 * /jvp and /discrete is the same on a GPU as on the CPU.
 */
import { test } from "node:test";
import * as tf from "@tensorflow/tfjs";
import "@tensorflow/tfjs-backend-webgpu";
import { roundToHalf } from "../../src/components/nn/half-precision.ts";
import { expectHalfRounding, halfTestValues } from "../half-reference.ts";

test("WebGPU: rounding to half equals the exact reference on values of every magnitude, ties included", async () => {
  await tf.setBackend("webgpu");
  await tf.ready();
  const values = halfTestValues();
  const rounded = roundToHalf(tf.tensor1d(values));
  expectHalfRounding(values, await rounded.data());
  rounded.dispose();
});
