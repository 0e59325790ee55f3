/**
 * An exact fp16 reference for roundToHalf's tests (CPU here, WebGPU in test/webgpu): IEEE binary16 rounding of a
 * float32 value computed in doubles, and test values of every magnitude with the grid's exact ties.
 */
import assert from "node:assert/strict";

/** fp16 rounding of a float32 value, exactly, in doubles: the reference the tensor version must equal bit for bit. */
export function referenceHalf(x: number): number {
  if (!Number.isFinite(x) || x === 0) return x;
  const magnitude = Math.abs(x);
  if (magnitude >= 65520) return Math.sign(x) * Infinity;
  let exponent = Math.floor(Math.log2(magnitude));
  if (2 ** exponent > magnitude) exponent--; // log2 in doubles is exact enough to be off by one at most
  if (2 ** (exponent + 1) <= magnitude) exponent++;
  const spacing = 2 ** Math.max(exponent - 10, -24);
  const units = magnitude / spacing; // exact: a float32 divided by a power of two
  let whole = Math.floor(units);
  const rest = units - whole;
  if (rest > 0.5 || (rest === 0.5 && whole % 2 === 1)) whole++;
  return Math.sign(x) * whole * spacing;
}

/** Float32 values from 2^−30 to 2^17, both signs, with every kind of tie, the edges of the range, ±∞ and NaN. */
export function halfTestValues(): Float32Array {
  const values: number[] = [];
  let seed = 12345;
  const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  for (let exponent = -30; exponent <= 17; exponent++) {
    for (let k = 0; k < 400; k++) values.push(Math.fround((random() < 0.5 ? -1 : 1) * 2 ** exponent * (1 + random())));
    // Exact ties and their float32 neighbours: the halfway points of the fp16 grid at this exponent.
    const spacing = 2 ** Math.max(exponent - 10, -24);
    for (let k = 0; k < 8; k++) {
      const tie = 2 ** exponent + ((2 * k + 1) * spacing) / 2;
      values.push(tie, -tie, Math.fround(tie * (1 + 2 ** -23)), Math.fround(tie * (1 - 2 ** -23)));
    }
  }
  values.push(65504, 65519, 65520, -65520, 2 ** -24, 2 ** -25, 3 * 2 ** -26, 2 ** -26, NaN, Infinity, -Infinity, 0, 3.4e38);
  return Float32Array.from(values);
}

/** Every rounded value equals the reference (a tiny negative value may give +0 for −0: no value downstream changes). */
export function expectHalfRounding(values: Float32Array, rounded: ArrayLike<number>): void {
  values.forEach((x, i) => {
    const want = referenceHalf(x);
    assert.ok(rounded[i] === want || (Number.isNaN(want) && Number.isNaN(rounded[i])), `round(${x}) = ${rounded[i]}, expected ${want}`);
  });
}
