/**
 * Distances between two point clouds, for exact quality metrics on 2-D data: generated samples against
 * fresh samples of the true mixture. Plain float64 JavaScript; points are flat arrays of n·dim numbers.
 */
import type { Rng } from "./rng.js";

/** Sorted projections of every point onto a unit direction. */
function sortedProjection(points: Float64Array, dim: number, direction: number[]): Float64Array {
  const n = points.length / dim;
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let dot = 0;
    for (let j = 0; j < dim; j++) dot += points[i * dim + j] * direction[j];
    out[i] = dot;
  }
  return out.sort();
}

/** Value of the empirical quantile function of sorted values at level q ∈ (0, 1). */
function quantile(sorted: Float64Array, q: number): number {
  const position = q * sorted.length - 0.5;
  const lo = Math.max(0, Math.min(sorted.length - 1, Math.floor(position)));
  const hi = Math.min(sorted.length - 1, lo + 1);
  const w = Math.max(0, Math.min(1, position - lo));
  return (1 - w) * sorted[lo] + w * sorted[hi];
}

/**
 * Sliced 2-Wasserstein distance: √(mean over random unit directions θ of W₂²(θ·a, θ·b)), each 1-D W₂ computed
 * exactly from sorted projections (quantile-matched when the clouds differ in size). A shift of one cloud by
 * a vector m gives |m|·√(1/dim), which makes the unit easy to read.
 */
export function slicedWasserstein(a: Float64Array, b: Float64Array, dim: number, rng: Rng, projections = 64): number {
  let total = 0;
  for (let p = 0; p < projections; p++) {
    const direction = Array.from({ length: dim }, () => rng.normal());
    const norm = Math.hypot(...direction);
    const unit = direction.map((v) => v / norm);
    const pa = sortedProjection(a, dim, unit);
    const pb = sortedProjection(b, dim, unit);
    const levels = Math.max(pa.length, pb.length);
    let squared = 0;
    for (let i = 0; i < levels; i++) {
      const q = (i + 0.5) / levels;
      squared += (quantile(pa, q) - quantile(pb, q)) ** 2;
    }
    total += squared / levels;
  }
  return Math.sqrt(total / projections);
}

/**
 * Unbiased squared maximum mean discrepancy with a sum of Gaussian kernels exp(−‖x − y‖²/(2h²)) over the
 * given bandwidths. Zero in expectation for equal distributions (it can be slightly negative), positive
 * otherwise. O(n²): fine for a few thousand 2-D points.
 */
export function mmdSquared(a: Float64Array, b: Float64Array, dim: number, bandwidths: readonly number[] = [0.05, 0.2, 0.8]): number {
  const kernel = (x: Float64Array, i: number, y: Float64Array, j: number) => {
    let sq = 0;
    for (let k = 0; k < dim; k++) sq += (x[i * dim + k] - y[j * dim + k]) ** 2;
    return bandwidths.reduce((s, h) => s + Math.exp(-sq / (2 * h * h)), 0);
  };
  const n = a.length / dim;
  const m = b.length / dim;
  let aa = 0;
  let bb = 0;
  let ab = 0;
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) if (i !== j) aa += kernel(a, i, a, j);
  for (let i = 0; i < m; i++) for (let j = 0; j < m; j++) if (i !== j) bb += kernel(b, i, b, j);
  for (let i = 0; i < n; i++) for (let j = 0; j < m; j++) ab += kernel(a, i, b, j);
  return aa / (n * (n - 1)) + bb / (m * (m - 1)) - (2 * ab) / (n * m);
}

/** Root-mean-square distance between matched points, e.g. f_θ(x_t, t) against the ideal f*(x_t, t). */
export function rmsDistance(a: Float64Array, b: Float64Array, dim: number): number {
  let squared = 0;
  for (let i = 0; i < a.length; i++) squared += (a[i] - b[i]) ** 2;
  return Math.sqrt(squared / (a.length / dim));
}
