import { test } from "node:test";
import assert from "node:assert/strict";
import { owenScramble, quasiNormalArray, scrambledSobol, selectCoordinates, sobolIntegers } from "../src/components/math/quasi-random.ts";
import { createRng } from "../src/components/math/rng.ts";

const TWO32 = 4294967296;

test("the first Sobol points match the known sequence (Gray-code order, Joe–Kuo directions)", () => {
  const points = Array.from(sobolIntegers(8, 3), (v) => v / TWO32);
  const column = (j: number) => points.filter((_, i) => i % 3 === j);
  assert.deepEqual(column(0), [0, 0.5, 0.75, 0.25, 0.375, 0.875, 0.625, 0.125]);
  assert.deepEqual(column(1), [0, 0.5, 0.25, 0.75, 0.375, 0.875, 0.125, 0.625]);
  assert.deepEqual(column(2), [0, 0.5, 0.25, 0.75, 0.625, 0.125, 0.875, 0.375]);
});

/** Whether every box [a/2^k, (a+1)/2^k) × [b/2^(m−k), (b+1)/2^(m−k)) of coordinates (i, j) holds exactly one point. */
function isTwoDimensionalNet(u: Float64Array, dims: number, i: number, j: number, m: number): boolean {
  const n = 2 ** m;
  for (let k = 0; k <= m; k++) {
    const counts = new Int32Array(n);
    for (let p = 0; p < n; p++) counts[Math.floor(u[p * dims + i] * 2 ** k) * 2 ** (m - k) + Math.floor(u[p * dims + j] * 2 ** (m - k))]++;
    if (counts.some((c) => c !== 1)) return false;
  }
  return true;
}

test("the first 2^m points: every coordinate is stratified, and the first two form a (0, m, 2)-net, scrambled or not", () => {
  const m = 10;
  const n = 2 ** m;
  const plain = Float64Array.from(sobolIntegers(n, 6), (v) => v / TWO32);
  for (const u of [plain, scrambledSobol(n, 6, 7), scrambledSobol(n, 6, 8)]) {
    for (let j = 0; j < 6; j++) {
      const counts = new Int32Array(n);
      for (let p = 0; p < n; p++) counts[Math.floor(u[p * 6 + j] * n)]++;
      assert.ok(counts.every((c) => c === 1), `coordinate ${j} is not stratified into ${n} intervals`);
    }
    assert.ok(isTwoDimensionalNet(u, 6, 0, 1, m), "coordinates 0 and 1 are not a (0, m, 2)-net");
  }
  // A pseudo-random set of the same size is not a net (the test can fail).
  const rng = createRng(1);
  const random = Float64Array.from({ length: 2 * n }, () => rng.uniform());
  assert.ok(!isTwoDimensionalNet(random, 2, 0, 1, m));
});

test("the scramble is a bijection that keeps leading digits' nesting, and seeds give different, reproducible points", () => {
  // Nested scrambling: points that share their first k binary digits still share them (in permuted form).
  const seed = 123456;
  const x = 0b1011_0110_0000_0000_0000_0000_0000_0000;
  const y = 0b1011_0110_1111_0000_0000_0000_0000_0001;
  assert.equal(owenScramble(x, seed) >>> 24, owenScramble(y, seed) >>> 24);
  assert.notEqual(owenScramble(x, seed), owenScramble(y, seed));
  const seen = new Set<number>();
  for (let i = 0; i < 4096; i++) seen.add(owenScramble(i << 20, seed) >>> 20);
  assert.equal(seen.size, 4096, "the top 12 digits are permuted, not merged");
  assert.deepEqual(scrambledSobol(64, 4, 5), scrambledSobol(64, 4, 5));
  assert.notDeepEqual(scrambledSobol(64, 4, 5), scrambledSobol(64, 4, 6));
  assert.ok(scrambledSobol(4096, 4, 9).every((v) => v > 0 && v < 1));
});

test("quasi-random estimates have far smaller error than i.i.d. ones: the mass of a disc, and normal moments", () => {
  const n = 1024;
  const seeds = 16;
  const discMass = (u: Float64Array, dims: number) => {
    let inside = 0;
    for (let p = 0; p < n; p++) if ((u[p * dims] - 0.5) ** 2 + (u[p * dims + 1] - 0.5) ** 2 < 0.16) inside++;
    return inside / n;
  };
  const exact = Math.PI * 0.16;
  let squared = 0;
  for (let s = 0; s < seeds; s++) squared += (discMass(scrambledSobol(n, 2, s), 2) - exact) ** 2;
  const rmse = Math.sqrt(squared / seeds);
  const iidError = Math.sqrt((exact * (1 - exact)) / n); // ≈ 0.0146
  assert.ok(rmse < 0.2 * iidError, `disc mass: RMSE ${rmse} vs i.i.d. ${iidError}`);

  // N(0, σ²) noise: mean 0 and variance σ² per coordinate, with errors well below the i.i.d. 1/√n.
  const sigma = 0.5;
  const z = quasiNormalArray(n, 4, 3, sigma);
  for (let j = 0; j < 4; j++) {
    const column = selectCoordinates(z, 4, j, j + 1);
    const mean = column.reduce((a, b) => a + b, 0) / n;
    const variance = column.reduce((a, b) => a + b * b, 0) / n;
    assert.ok(Math.abs(mean) < (0.1 * sigma) / Math.sqrt(n), `coordinate ${j}: mean ${mean}`);
    assert.ok(Math.abs(variance / sigma ** 2 - 1) < 0.2 * Math.sqrt(2 / n), `coordinate ${j}: variance ${variance}`);
  }
});

test("selectCoordinates takes columns of point-major data", () => {
  const points = Float64Array.from([1, 2, 3, 4, 5, 6, 7, 8]);
  assert.deepEqual(Array.from(selectCoordinates(points, 4, 2, 4)), [3, 4, 7, 8]);
});
