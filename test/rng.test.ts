import { test } from "node:test";
import assert from "node:assert/strict";
import { createRng, normalArray } from "../src/components/math/rng.ts";
import { assertClose } from "./helpers.ts";

test("the same seed gives the same stream, another seed another", () => {
  assert.deepEqual(normalArray(createRng(42), 10), normalArray(createRng(42), 10));
  assert.notDeepEqual(normalArray(createRng(42), 10), normalArray(createRng(43), 10));
});

test("uniforms lie in [0, 1) and normals have mean 0 and variance 1", () => {
  const rng = createRng(9);
  const n = 100_000;
  for (let i = 0; i < 1000; i++) {
    const u = rng.uniform();
    assert.ok(u >= 0 && u < 1);
  }
  const x = normalArray(rng, n, 2);
  const mean = x.reduce((a, b) => a + b, 0) / n;
  const variance = x.reduce((a, b) => a + (b - mean) ** 2, 0) / n;
  assertClose(mean, 0, 5 * (2 / Math.sqrt(n)));
  assertClose(variance, 4, 5 * 4 * Math.sqrt(2 / n)); // SE of a normal sample variance is σ²√(2/n)
});
