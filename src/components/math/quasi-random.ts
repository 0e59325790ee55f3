/**
 * Quasi-random (low-discrepancy) points for low-variance Monte Carlo: the Sobol sequence with Owen-style
 * nested scrambling, and normal noise made from it through Φ⁻¹.
 *
 * Why: an exact quality metric of a sampler is an integral over its starting noise. With i.i.d. noise the
 * number of samples that land in each mode fluctuates like √n, and moving that mass between modes dominates a
 * Wasserstein distance at any affordable n. The first 2^m Sobol points are a (t, m, d)-net: every dyadic box of
 * volume 2^{t−m} holds exactly its share of points (t = 0 for the first two coordinates), so the noise, and
 * every smooth image of it, is balanced far better than √n. Scrambling keeps that structure, makes each point
 * uniform on [0, 1)^d, and gives independent replicates from different seeds, so the error can be measured.
 *
 * Direction numbers: Joe & Kuo (2008), new-joe-kuo-6.21201, the first dimensions. Scrambling: Burley (2020),
 * "Practical hash-based Owen scrambling" (JCGT 9(4)): a hash that flips each bit of the bit-reversed
 * coordinate as a function of the bits before it only, i.e. a nested uniform scramble.
 */
import { normalQuantile } from "./normal-distribution.js";

/** Joe–Kuo primitive polynomials (degree s, coefficients a) and initial direction numbers m, dimensions 2… */
const JOE_KUO: readonly { s: number; a: number; m: readonly number[] }[] = [
  { s: 1, a: 0, m: [1] },
  { s: 2, a: 1, m: [1, 3] },
  { s: 3, a: 1, m: [1, 3, 1] },
  { s: 3, a: 2, m: [1, 1, 1] },
  { s: 4, a: 1, m: [1, 1, 3, 3] },
];

export const SOBOL_MAX_DIMENSIONS = JOE_KUO.length + 1;

/** 32 direction integers of one Sobol coordinate (dimension 0 is the van der Corput sequence). */
function directionIntegers(dimension: number): Uint32Array {
  const v = new Uint32Array(33); // v[1..32], scaled by 2^32
  if (dimension === 0) {
    for (let k = 1; k <= 32; k++) v[k] = 2 ** (32 - k);
    return v;
  }
  const { s, a, m } = JOE_KUO[dimension - 1];
  for (let k = 1; k <= s; k++) v[k] = (m[k - 1] * 2 ** (32 - k)) >>> 0;
  for (let k = s + 1; k <= 32; k++) {
    let value = (v[k - s] ^ (v[k - s] >>> s)) >>> 0;
    for (let l = 1; l < s; l++) if ((a >>> (s - 1 - l)) & 1) value = (value ^ v[k - l]) >>> 0;
    v[k] = value;
  }
  return v;
}

/**
 * The first n points of the d-dimensional Sobol sequence (Gray-code order) as 32-bit integers, point-major:
 * coordinate j of point i is out[i·d + j], and the point is out/2^32 ∈ [0, 1)^d.
 */
export function sobolIntegers(n: number, dimensions: number): Uint32Array {
  if (!(dimensions >= 1 && dimensions <= SOBOL_MAX_DIMENSIONS)) throw new RangeError(`Sobol points: 1 to ${SOBOL_MAX_DIMENSIONS} dimensions, not ${dimensions}`);
  if (!(Number.isInteger(n) && n >= 0 && n <= 2 ** 32)) throw new RangeError(`Sobol points: n must be an integer in [0, 2^32], not ${n}`);
  const out = new Uint32Array(n * dimensions);
  for (let j = 0; j < dimensions; j++) {
    const v = directionIntegers(j);
    let x = 0;
    for (let i = 1; i < n; i++) {
      // Gray code: point i differs from point i − 1 in the direction of the lowest zero bit of i − 1.
      let c = 1;
      let value = i - 1;
      while (value & 1) {
        value >>>= 1;
        c++;
      }
      x = (x ^ v[c]) >>> 0;
      out[i * dimensions + j] = x;
    }
  }
  return out;
}

function reverseBits(x: number): number {
  x = ((x >>> 1) & 0x55555555) | ((x & 0x55555555) << 1);
  x = ((x >>> 2) & 0x33333333) | ((x & 0x33333333) << 2);
  x = ((x >>> 4) & 0x0f0f0f0f) | ((x & 0x0f0f0f0f) << 4);
  x = ((x >>> 8) & 0x00ff00ff) | ((x & 0x00ff00ff) << 8);
  return ((x >>> 16) | (x << 16)) >>> 0;
}

/** A 32-bit integer hash (lowbias32) to derive independent per-coordinate seeds from one seed. */
function hash32(x: number): number {
  x = (x ^ (x >>> 16)) >>> 0;
  x = Math.imul(x, 0x7feb352d) >>> 0;
  x = (x ^ (x >>> 15)) >>> 0;
  x = Math.imul(x, 0x846ca68b) >>> 0;
  return (x ^ (x >>> 16)) >>> 0;
}

/**
 * Nested uniform (Owen-style) scramble of one 32-bit coordinate (Burley 2020): in bit-reversed order every
 * operation changes bit k only as a function of bits below k, so the most significant digit is permuted
 * uniformly, each next digit by a permutation that depends on the digits above it. Nets stay nets.
 */
export function owenScramble(x: number, seed: number): number {
  let r = reverseBits(x >>> 0);
  r = (r ^ Math.imul(r, 0x3d20adea)) >>> 0;
  r = (r + seed) >>> 0;
  r = Math.imul(r, (seed >>> 16) | 1) >>> 0;
  r = (r ^ Math.imul(r, 0x05526c56)) >>> 0;
  r = (r ^ Math.imul(r, 0x53a22864)) >>> 0;
  return reverseBits(r);
}

/**
 * n scrambled Sobol points in [0, 1)^d, point-major (coordinate j of point i at i·d + j). Each point lies at
 * the centre of its 2^−32 cell, so no coordinate is exactly 0 or 1. Use n = 2^m for the net property.
 */
export function scrambledSobol(n: number, dimensions: number, seed: number): Float64Array {
  const ints = sobolIntegers(n, dimensions);
  const seeds = Array.from({ length: dimensions }, (_, j) => hash32((hash32(seed >>> 0) + Math.imul(j + 1, 0x9e3779b9)) >>> 0));
  const out = new Float64Array(ints.length);
  for (let i = 0; i < ints.length; i++) out[i] = (owenScramble(ints[i], seeds[i % dimensions]) + 0.5) / 4294967296;
  return out;
}

/**
 * Quasi-random N(0, std² I) noise: n points of dimension d (point-major) as Φ⁻¹ of scrambled Sobol points.
 * Replaces i.i.d. noise wherever an integral over the noise is measured; different seeds give independent
 * replicates of the same estimator.
 */
export function quasiNormalArray(n: number, dimensions: number, seed: number, std = 1): Float64Array {
  const u = scrambledSobol(n, dimensions, seed);
  return u.map((v) => std * normalQuantile(v));
}

/** Columns [from, to) of point-major data with `dimensions` coordinates per point (e.g. one noise draw of a pair). */
export function selectCoordinates(points: Float64Array, dimensions: number, from: number, to: number): Float64Array {
  const n = points.length / dimensions;
  const width = to - from;
  const out = new Float64Array(n * width);
  for (let i = 0; i < n; i++) for (let j = 0; j < width; j++) out[i * width + j] = points[i * dimensions + from + j];
  return out;
}
