import { test } from "node:test";
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { HALF_MAX, roundToHalf } from "../src/components/nn/half-precision.ts";
import { expectHalfRounding, halfTestValues } from "./half-reference.ts";

await tf.setBackend("cpu");

test("rounding to half precision follows IEEE binary16", () => {
  const cases: [number, number][] = [
    [1, 1],
    [1 + 2 ** -11, 1], // exactly halfway between 1 and 1 + 2^-10: ties to even (1)
    [1 + 3 * 2 ** -11, 1 + 2 ** -9], // halfway between 1 + 2^-10 and 1 + 2^-9: ties to even (…2^-9)
    [0.1, 0.0999755859375], // the half value nearest 0.1
    [2048 + 1, 2048], // spacing is 2 in [2048, 4096)
    [2048 + 3, 2048 + 4],
    [HALF_MAX, HALF_MAX],
    [65519, HALF_MAX], // rounds down to the largest finite half
    [65520, Infinity], // halfway to 2^16 rounds to even, which is out of range: overflow
    [-1e5, -Infinity],
    [2 ** -24, 2 ** -24], // smallest subnormal
    [2 ** -26, 0], // below half of it: underflow to zero
    [3 * 2 ** -25, 2 ** -23], // subnormal tie rounds to even
    [0, 0],
  ];
  const rounded = roundToHalf(tf.tensor1d(cases.map(([x]) => x))).dataSync();
  cases.forEach(([x, expected], i) => assert.equal(rounded[i], expected, `round(${x}) = ${rounded[i]}, expected ${expected}`));
});

test("rounding is idempotent and exact on every value it produces", () => {
  const x = tf.randomNormal([1000], 0, 100, "float32", 3);
  const once = roundToHalf(x);
  assert.deepEqual(roundToHalf(once).dataSync(), once.dataSync());
  // Relative rounding error of normal halves is at most 2^-11.
  const rel = tf.max(tf.div(tf.abs(tf.sub(once, x)), tf.abs(x))).dataSync()[0];
  assert.ok(rel <= 2 ** -11 + 1e-9, `relative error ${rel}`);
});

test("rounding to half equals an exact reference on float32 values of every magnitude, ties included", () => {
  const values = halfTestValues();
  expectHalfRounding(values, roundToHalf(tf.tensor1d(values)).dataSync());
});
