import { test } from "node:test";
import assert from "node:assert/strict";
import { erfc, normalCdf, normalMass, normalPdf, normalQuantile } from "../src/components/math/normal-distribution.ts";

/** |actual/expected − 1| ≤ tol */
function assertRelative(actual: number, expected: number, tol: number, what: string): void {
  const error = Math.abs(actual / expected - 1);
  assert.ok(error <= tol, `${what}: ${actual} vs ${expected}, relative error ${error} > ${tol}`);
}

test("erfc matches reference values to ~1e-14 relative, tails included", () => {
  // Reference values (erfc to 16+ digits, from tables / arbitrary-precision evaluation).
  const reference: [number, number][] = [
    [0, 1],
    [0.5, 0.4795001221869534],
    [1, 0.15729920705028513],
    [2, 0.004677734981047266],
    [3, 2.209049699858544e-5],
    [5, 1.5374597944280349e-12],
    [10, 2.088487583762545e-45],
    [-1, 1.8427007929497148],
  ];
  for (const [x, value] of reference) assertRelative(erfc(x), value, 2e-14, `erfc(${x})`);
});

test("erfc is continuous where it switches from the series to the continued fraction", () => {
  const below = erfc(1.5 - 1e-13);
  const above = erfc(1.5);
  // d erfc/dx = −2/√π e^{−x²} ≈ −0.12 at 1.5: a step of 1e-13 changes erfc by ~4e-13 relative to its value.
  assertRelative(below, above, 1e-12, "erfc across x = 1.5");
  assertRelative(erfc(1.5), 0.033894853524689274, 2e-14, "erfc(1.5)");
});

test("Φ and φ: known values, symmetry, and masses of intervals from either tail", () => {
  assertRelative(normalCdf(-1.96), 0.024997895148220435, 1e-14, "Φ(−1.96)");
  assertRelative(normalCdf(-5), 2.866515718791939e-7, 1e-13, "Φ(−5)");
  assertRelative(normalCdf(1), 0.8413447460685429, 1e-15, "Φ(1)");
  assertRelative(normalPdf(1), 0.24197072451914337, 1e-15, "φ(1)");
  for (const z of [-3, -0.4, 0.7, 2.5]) assert.ok(Math.abs(normalCdf(z) + normalCdf(-z) - 1) < 1e-15, `Φ(z) + Φ(−z) at ${z}`);
  // Mass of a far upper-tail interval keeps its relative precision (1 − Φ would lose it all).
  assertRelative(normalMass(6, 7), normalCdf(-6) - normalCdf(-7), 1e-15, "mass of (6, 7)");
  assert.ok(normalMass(6, 7) > 9.8e-10 && normalMass(6, 7) < 9.9e-10);
  assertRelative(normalMass(-1, 1), 0.6826894921370859, 1e-15, "mass of (−1, 1)");
});

test("Φ⁻¹ matches known quantiles and inverts Φ to full precision", () => {
  assertRelative(normalQuantile(0.975), 1.959963984540054, 1e-14, "Φ⁻¹(0.975)");
  assertRelative(normalQuantile(0.999), 3.090232306167813, 1e-14, "Φ⁻¹(0.999)");
  assertRelative(normalQuantile(1e-10), -6.361340902404056, 1e-14, "Φ⁻¹(1e-10)");
  assertRelative(normalQuantile(0.8413447460685429), 1, 1e-14, "Φ⁻¹(Φ(1))");
  assert.equal(normalQuantile(0.5), 0);
  assert.equal(normalQuantile(0), Number.NEGATIVE_INFINITY);
  assert.equal(normalQuantile(1), Number.POSITIVE_INFINITY);
  assert.ok(Number.isNaN(normalQuantile(1.5)));
  for (let z = -8; z <= 0; z += 0.37) {
    const back = normalQuantile(normalCdf(z));
    assert.ok(Math.abs(back - z) < 1e-12 * Math.max(1, Math.abs(z)), `Φ⁻¹(Φ(${z})) = ${back}`);
  }
  // Across the split points of the approximation (p = 0.02425 and 1 − 0.02425) the result is continuous.
  for (const p of [0.02425, 1 - 0.02425]) {
    assertRelative(normalQuantile(p * (1 + 1e-12)), normalQuantile(p), 1e-10, `Φ⁻¹ near ${p}`);
  }
});
