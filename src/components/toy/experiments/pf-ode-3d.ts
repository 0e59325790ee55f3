/**
 * Data for the TrigFlow page's two 3-D views, kept free of the DOM and of plotly so it is tested in Node:
 * the exact PF-ODE paths and the marginal density as (x₁, x₂, t) arrays, and the ideal consistency
 * function f* next to the denoiser E[x₀ | x_t] over a grid of (position along a line, t).
 */
import { idealConsistencyFunction, posteriorMeanX0, type GaussianMixture } from "../../trigflow/gaussian-mixture.js";
import { SIGMA_D } from "../../trigflow/trigflow.js";
import { REFERENCE_TOLERANCE, marginalDensityGrid } from "./pf-ode.js";

/** One exact path as three coordinate arrays, ready for a 3-D line with t on the vertical axis. */
export interface PathLine3d {
  /** the path's index among the page's paths */
  path: number;
  /** its noise point, at t = times[0] */
  start: [number, number];
  x1: number[];
  x2: number[];
  t: number[];
}

/**
 * Split the page's paths (paths[i] holds every path's point at times[i], flat [x₁, x₂, x₁, x₂, …]) into one
 * line per path, ordered from noise (times[0]) to data (the last time).
 */
export function pathLines3d(paths: readonly Float64Array[], times: readonly number[]): PathLine3d[] {
  if (paths.length !== times.length) throw new RangeError(`${paths.length} states for ${times.length} times`);
  const nPaths = paths[0].length / 2;
  return Array.from({ length: nPaths }, (_, p) => ({
    path: p,
    start: [paths[0][2 * p], paths[0][2 * p + 1]],
    x1: paths.map((state) => state[2 * p]),
    x2: paths.map((state) => state[2 * p + 1]),
    t: [...times],
  }));
}

/** The relative density of x_t on a square grid, laid out as a 3-D surface wants it. */
export interface DensitySlice {
  t: number;
  /** cell centres along each axis, ascending (the same for x₁ and x₂: the domain is square) */
  coords: number[];
  /** density[i][j] at (x₁, x₂) = (coords[j], coords[i]): rows follow x₂ upward, relative to the peak (square-rooted) */
  density: number[][];
}

/** The exact marginal density of x_t (marginalDensityGrid) at each of `times`, as horizontal slices. */
export function densitySlices(mixture: GaussianMixture, times: readonly number[], domain: readonly [number, number], n = 80): DensitySlice[] {
  const [lo, hi] = domain;
  const coords = Array.from({ length: n }, (_, c) => lo + ((hi - lo) * (c + 0.5)) / n);
  return times.map((t) => {
    const { values } = marginalDensityGrid(mixture, t, domain, n);
    // marginalDensityGrid stores the top row (largest x₂) first, as an image; a surface's rows go up in x₂.
    const density = Array.from({ length: n }, (_, i) => values.slice((n - 1 - i) * n, (n - i) * n));
    return { t, coords, density };
  });
}

/** A line in the data plane, x = center + u·direction with a unit direction. */
export interface PlaneLine {
  center: [number, number];
  direction: [number, number];
}

/**
 * The line through the mixture's two modes that lie farthest apart (the first such pair), centred between
 * them: along it f* has at least two levels to choose from. For the ring preset with an even number of
 * modes it is the x₁ axis, which the mixture's mirror symmetry keeps every path on.
 */
export function lineThroughFarthestModes(mixture: GaussianMixture): PlaneLine {
  const means = mixture.means;
  let best: [number, number] = [0, 0];
  let farthest = -1;
  for (let a = 0; a < means.length; a++) {
    for (let b = a + 1; b < means.length; b++) {
      const d = Math.hypot(means[b][0] - means[a][0], means[b][1] - means[a][1]);
      if (d > farthest + 1e-12) [farthest, best] = [d, [a, b]];
    }
  }
  if (farthest <= 0) return { center: [means[0][0], means[0][1]], direction: [1, 0] };
  const [a, b] = best.map((k) => means[k]);
  // Point the line from the lower-left mode to the upper-right one, so u grows with x₁ (or x₂ on a vertical line).
  const [from, to] = b[0] - a[0] > 1e-12 || (Math.abs(b[0] - a[0]) <= 1e-12 && b[1] > a[1]) ? [a, b] : [b, a];
  return {
    center: [(from[0] + to[0]) / 2, (from[1] + to[1]) / 2],
    direction: [(to[0] - from[0]) / farthest, (to[1] - from[1]) / farthest],
  };
}

/** The points center + u·direction for each u, flat [x₁, x₂, …]. */
export function pointsOnLine(line: PlaneLine, us: readonly number[]): Float64Array {
  const points = new Float64Array(2 * us.length);
  us.forEach((u, i) => {
    points[2 * i] = line.center[0] + u * line.direction[0];
    points[2 * i + 1] = line.center[1] + u * line.direction[1];
  });
  return points;
}

/** Where points land, measured along the line: (p − center)·direction for each flat point p. */
export function coordinateAlongLine(line: PlaneLine, points: Float64Array): number[] {
  return Array.from({ length: points.length / 2 }, (_, i) =>
    (points[2 * i] - line.center[0]) * line.direction[0] + (points[2 * i + 1] - line.center[1]) * line.direction[1],
  );
}

/** f* and the denoiser over (u, t): row r is the time times[r], column c the point at us[c] on the line. */
export interface ConsistencySurfaces {
  us: number[];
  times: number[];
  /** coordinate along the line of f*(x_t, t), the end of the exact path through x_t (Eq. 5's target) */
  consistency: number[][];
  /** coordinate along the line of E[x₀ | x_t], the diffusion model's ideal F put through Eq. 5 */
  denoiser: number[][];
}

/**
 * f*(x, t) and E[x₀ | x], both read along the line, for x on the line at each u and each t of `times`. Each
 * time is one batched solve of the exact PF-ODE down to t = 0 (the reference tolerance). Callers that must
 * not block a page call it with a few times at a time and join the rows (joinSurfaces).
 */
export function consistencySurfaces(
  mixture: GaussianMixture,
  line: PlaneLine,
  us: readonly number[],
  times: readonly number[],
  sigmaD = SIGMA_D,
): ConsistencySurfaces {
  const ideal = idealConsistencyFunction(mixture, sigmaD, REFERENCE_TOLERANCE);
  const denoise = posteriorMeanX0(mixture, sigmaD);
  const points = pointsOnLine(line, us);
  return {
    us: [...us],
    times: [...times],
    consistency: times.map((t) => coordinateAlongLine(line, ideal(points, t))),
    denoiser: times.map((t) => coordinateAlongLine(line, denoise(points, t))),
  };
}

/** Stack surfaces computed for consecutive groups of times (same us) into one. */
export function joinSurfaces(parts: readonly ConsistencySurfaces[]): ConsistencySurfaces {
  return {
    us: parts[0].us,
    times: parts.flatMap((p) => p.times),
    consistency: parts.flatMap((p) => p.consistency),
    denoiser: parts.flatMap((p) => p.denoiser),
  };
}
