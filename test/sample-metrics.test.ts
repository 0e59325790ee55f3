import { test } from "node:test";
import assert from "node:assert/strict";
import { mmdSquared, rmsDistance, slicedWasserstein } from "../src/components/sample-metrics.ts";
import { createRng, normalArray } from "../src/components/rng.ts";
import { assertClose } from "./helpers.ts";

const n = 4000;
const a = normalArray(createRng(1), 2 * n, 0.5);
const b = normalArray(createRng(2), 2 * n, 0.5);
const shifted = b.map((v, i) => v + (i % 2 === 0 ? 0.3 : 0.4)); // shift m = (0.3, 0.4), |m| = 0.5

test("sliced Wasserstein: a shift by m gives |m|/√dim; the same distribution gives nearly 0", () => {
  // 256 directions: the direction average of (θ·m)² converges like 1/√256; sampling noise of W₂ with
  // n = 4000 is ~0.5/√4000 ≈ 0.008.
  assertClose(slicedWasserstein(a, shifted, 2, createRng(3), 256), 0.5 / Math.SQRT2, 0.03);
  assert.ok(slicedWasserstein(a, b, 2, createRng(3)) < 0.03);
  // Different sizes are quantile-matched.
  assertClose(slicedWasserstein(a.slice(0, 2000), shifted, 2, createRng(3), 256), 0.5 / Math.SQRT2, 0.04);
});

test("MMD² is near zero for equal distributions, clearly positive for different ones, and symmetric", () => {
  const small = 600;
  const x = a.slice(0, 2 * small);
  const y = b.slice(0, 2 * small);
  const z = shifted.slice(0, 2 * small);
  assert.ok(Math.abs(mmdSquared(x, y, 2)) < 0.01, `equal: ${mmdSquared(x, y, 2)}`);
  assert.ok(mmdSquared(x, z, 2) > 0.1, `shifted: ${mmdSquared(x, z, 2)}`);
  assertClose(mmdSquared(x, z, 2), mmdSquared(z, x, 2), 1e-12);
});

test("RMS distance between matched points", () => {
  assertClose(rmsDistance(Float64Array.from([0, 0, 1, 1]), Float64Array.from([3, 4, 1, 1]), 2), Math.sqrt(25 / 2), 1e-12);
});
