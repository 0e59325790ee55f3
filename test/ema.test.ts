import { test } from "node:test";
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { copyParameters, emaDecayFromHalfLife, updateEma } from "../src/components/training/ema.ts";
import { ParameterSet, normal, zeros } from "../src/components/nn/parameters.ts";
import { assertClose } from "./helpers.ts";

await tf.setBackend("cpu");

test("EMA decay from a half-life in images: 0.5 Mimg at batch 512 is β ≈ 0.99929 (App. G.2)", () => {
  assertClose(emaDecayFromHalfLife(500_000, 512), 0.99929, 1e-5);
  // After halfLife/batch steps the old weights keep exactly half their influence.
  assertClose(emaDecayFromHalfLife(1000, 10) ** 100, 0.5, 1e-12);
});

test("updateEma moves each parameter by (1 − β) toward the source; copyParameters copies", () => {
  const source = new ParameterSet(1);
  source.create("w", [3], normal(1));
  const target = new ParameterSet(2);
  target.create("w", [3], zeros);
  updateEma(target, source, 0.9);
  assertClose(target.get("w").dataSync(), Array.from(source.get("w").dataSync(), (v) => 0.1 * v), 1e-7);
  copyParameters(target, source);
  assert.deepEqual(target.get("w").dataSync(), source.get("w").dataSync());
  const before = tf.memory().numTensors;
  for (let i = 0; i < 10; i++) updateEma(target, source, 0.5);
  assert.equal(tf.memory().numTensors, before, "no leaks");
});
