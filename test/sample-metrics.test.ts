import { test } from "node:test";
import assert from "node:assert/strict";
import { MixtureSlicedWasserstein, mixtureMetric, rmsDistance } from "../src/components/toy/sample-metrics.ts";
import { createRng } from "../src/components/math/rng.ts";
import { createMixture, sampleMixture } from "../src/components/trigflow/gaussian-mixture.ts";
import { mixturePreset } from "../src/components/toy/mixture-presets.ts";
import { normalQuantile } from "../src/components/math/normal-distribution.ts";
import { quasiNormalArray } from "../src/components/math/quasi-random.ts";
import { assertClose } from "./helpers.ts";

test("RMS distance between matched points", () => {
  assertClose(rmsDistance(Float64Array.from([0, 0, 1, 1]), Float64Array.from([3, 4, 1, 1]), 2), Math.sqrt(25 / 2), 1e-12);
});

// ---- Exact sliced W₂ against a Gaussian mixture (no reference samples) ----

/** ∫₀¹ (c(q) − F⁻¹(q))² dq by the midpoint rule, c(q) the i-th sorted atom on ((i−1)/n, i/n]: an independent reference. */
function w2SquaredByQuadrature(atoms: number[], quantile: (q: number) => number, perSlice = 4000): number {
  const sorted = [...atoms].sort((x, y) => x - y);
  const n = sorted.length;
  let total = 0;
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < perSlice; k++) total += (sorted[i] - quantile((i + (k + 0.5) / perSlice) / n)) ** 2;
  }
  return total / (n * perSlice);
}

test("exact sliced W₂ to a mixture: one direction of one Gaussian agrees with direct quadrature of the quantile functions", () => {
  const mixture = createMixture([[0.3, -0.2]], 0.15);
  const direction = [0.6, 0.8]; // projected law N(0.02, 0.15²)
  const n = 40;
  const rng = createRng(11);
  const samples = Float64Array.from({ length: 2 * n }, () => 0.4 * rng.normal());
  const metric = new MixtureSlicedWasserstein(mixture, n, [direction]);
  const projected = Array.from({ length: n }, (_, i) => 0.6 * samples[2 * i] + 0.8 * samples[2 * i + 1]);
  const reference = w2SquaredByQuadrature(projected, (q) => 0.02 + 0.15 * normalQuantile(q));
  assertClose(metric.distance(samples) ** 2, reference, 2e-4 * reference);
});

test("exact sliced W₂ to a mixture: the quantiles of a two-mode mixture are found (modes far apart, so each half is one Gaussian)", () => {
  const mixture = createMixture([[-5, 1], [5, 1]], [0.1, 0.3]);
  const n = 30;
  const rng = createRng(12);
  const samples = Float64Array.from({ length: 2 * n }, (_, i) => (i % 2 === 0 ? (i < n ? -4.8 : 5.1) + 0.2 * rng.normal() : 0));
  const metric = new MixtureSlicedWasserstein(mixture, n, [[1, 0]]);
  const quantile = (q: number) => (q < 0.5 ? -5 + 0.1 * normalQuantile(2 * q) : 5 + 0.3 * normalQuantile(2 * q - 1));
  const reference = w2SquaredByQuadrature(Array.from({ length: n }, (_, i) => samples[2 * i]), quantile);
  assertClose(metric.distance(samples) ** 2, reference, 2e-4 * reference);
});

test("exact sliced W₂ to a mixture: near-perfect quasi-random samples score near the floor, i.i.d. and shifted ones do not", () => {
  const mixture = mixturePreset("ring", { modes: 8, spread: 0.06 });
  const n = 4096;
  const metric = new MixtureSlicedWasserstein(mixture, n, 64);
  // A balanced quasi-random draw: each mode gets exactly n/8 points, its noise from a block of n/8 consecutive
  // scrambled Sobol points (a block of 2^m starting at a multiple of 2^m is itself a net; points i ≡ k mod 8
  // would not be: they share their first three binary digits).
  const z = quasiNormalArray(n, 2, 1);
  const balanced = Float64Array.from(z, (v, i) => {
    const k = Math.floor(i / 2 / (n / 8));
    return mixture.means[k][i % 2] + mixture.stds[k] * v;
  });
  const iid = sampleMixture(mixture, n, createRng(2)).points;
  const good = metric.distance(balanced);
  const random = metric.distance(iid);
  assert.ok(metric.floor > 0 && metric.floor < 1e-3, `floor ${metric.floor}`);
  assert.ok(good < 0.004, `balanced quasi-random: ${good}`);
  assert.ok(random > 2 * good, `i.i.d. ${random} vs balanced ${good}`);
  // A shift by m: evenly spaced directions average (θ·m)² to exactly |m|²/2.
  const shifted = balanced.map((v, i) => v + (i % 2 === 0 ? 0.03 : 0.04));
  assertClose(metric.distance(shifted), 0.05 / Math.SQRT2, 0.003);
  assert.throws(() => metric.distance(balanced.slice(0, 100)), /expected 4096 samples/);
});

test("mixtureMetric builds each (mixture, n) once and keeps sizes apart", () => {
  const mixture = createMixture([[0.3, -0.2], [-0.5, 0.1]], 0.1);
  const metric = mixtureMetric(mixture, 64);
  assert.equal(mixtureMetric(mixture, 64), metric);
  assert.notEqual(mixtureMetric(mixture, 65), metric);
  assert.equal(mixtureMetric(mixture, 65).n, 65);
  assert.notEqual(mixtureMetric(createMixture([[0.3, -0.2], [-0.5, 0.1]], 0.1), 64), metric, "another mixture, even an equal one, gets its own");
});
