/**
 * The computations behind the "TrigFlow and the probability-flow ODE" page, kept here so they are tested
 * and reusable: exact trajectories, the consistency property, and solver error against the reference.
 */
import { arrayOps } from "../../math/linear-ops.js";
import { exactVelocity, idealConsistencyFunction, marginalLogDensity, posteriorMeanX0, type GaussianMixture } from "../../trigflow/gaussian-mixture.js";
import { EVALUATIONS_PER_STEP, STEPPERS, integrate, karrasTimes, solveAdaptive, uniformTimes, type StepperName } from "../../trigflow/ode-solvers.js";
import { SIGMA_D } from "../../trigflow/trigflow.js";

/** Tolerances of the reference solver: far below what any figure can show (≈ 1e-8 in position). */
export const REFERENCE_TOLERANCE = { rtol: 1e-9, atol: 1e-10 } as const;

/**
 * Exact PF-ODE paths for a batch of starting points (flat, n·dim) at `times` (decreasing, times[0] = start).
 * Returns one flat state per time: states[i] holds every path's position at times[i].
 */
export function exactTrajectories(mix: GaussianMixture, starts: Float64Array, times: readonly number[], sigmaD = SIGMA_D): Float64Array[] {
  const velocity = exactVelocity(mix, sigmaD);
  const states = [starts];
  for (let i = 1; i < times.length; i++) {
    states.push(solveAdaptive(arrayOps, velocity, states[i - 1], times[i - 1], times[i], REFERENCE_TOLERANCE).x);
  }
  return states;
}

/**
 * The density of x_t on an n × n grid of cell centres over the square domain × domain, relative to its peak
 * and square-rooted so faint modes show. Row-major, top row first (row r at x₂ = hi − (hi − lo)(r + ½)/n,
 * column c at x₁ = lo + (hi − lo)(c + ½)/n), as an image is stored.
 */
export function marginalDensityGrid(mixture: GaussianMixture, t: number, domain: readonly [number, number], n = 90): { n: number; values: number[] } {
  const [lo, hi] = domain;
  const grid = new Float64Array(2 * n * n);
  for (let r = 0; r < n; r++) {
    for (let c = 0; c < n; c++) {
      grid[2 * (r * n + c)] = lo + ((hi - lo) * (c + 0.5)) / n;
      grid[2 * (r * n + c) + 1] = hi - ((hi - lo) * (r + 0.5)) / n;
    }
  }
  const logp = marginalLogDensity(mixture, grid, t);
  let peak = -Infinity;
  for (const l of logp) if (l > peak) peak = l;
  return { n, values: Array.from(logp, (l) => Math.exp((l - peak) / 2)) };
}

export interface ConsistencyCheckpoint {
  t: number;
  /** the trajectory's position at t */
  xt: Float64Array;
  /** f*(x_t, t), computed independently from x_t by solving to t = 0 */
  consistency: Float64Array;
  /** E[x0 | x_t]: what a diffusion model's F gives through Eq. 5 */
  denoiser: Float64Array;
}

/** Follow one trajectory and, at each checkpoint time, compare f* with the denoiser. */
export function consistencyCheckpoints(mix: GaussianMixture, start: Float64Array, times: readonly number[], sigmaD = SIGMA_D): ConsistencyCheckpoint[] {
  const ideal = idealConsistencyFunction(mix, sigmaD, REFERENCE_TOLERANCE);
  const denoise = posteriorMeanX0(mix, sigmaD);
  return exactTrajectories(mix, start, times, sigmaD).map((xt, i) => ({
    t: times[i],
    xt,
    consistency: ideal(xt, times[i]),
    denoiser: denoise(xt, times[i]),
  }));
}

export type TimeGridName = "uniform" | "karras";

export interface SolverErrorRow {
  method: StepperName;
  steps: number;
  /** velocity (network) evaluations: steps × evaluations per step */
  evaluations: number;
  /** root-mean-square distance to the reference endpoint over the batch */
  error: number;
}

/**
 * Error of each fixed-step solver at t = 0 against the reference solution, for a batch of starting noises
 * at tStart and several step counts.
 */
/** Where the exact PF-ODE takes each start from tStart to 0 (adaptive solve to the reference tolerance). */
export function referenceEndpoints(mix: GaussianMixture, starts: Float64Array, tStart: number, sigmaD = SIGMA_D): Float64Array {
  return solveAdaptive(arrayOps, exactVelocity(mix, sigmaD), starts, tStart, 0, REFERENCE_TOLERANCE).x;
}

export function solverErrorStudy(
  mix: GaussianMixture,
  starts: Float64Array,
  tStart: number,
  methods: readonly StepperName[],
  stepCounts: readonly number[],
  grid: TimeGridName,
  sigmaD = SIGMA_D,
  /** the exact endpoints (referenceEndpoints), when the caller already has them */
  reference: Float64Array = referenceEndpoints(mix, starts, tStart, sigmaD),
): SolverErrorRow[] {
  const velocity = exactVelocity(mix, sigmaD);
  const points = starts.length / mix.dim;
  const rows: SolverErrorRow[] = [];
  for (const method of methods) {
    for (const steps of stepCounts) {
      const times = grid === "uniform" ? uniformTimes(tStart, 0, steps) : karrasTimes(tStart, steps, 0.002, 7, sigmaD);
      const end = integrate(arrayOps, velocity, starts, times, STEPPERS[method]);
      let squared = 0;
      for (let i = 0; i < end.length; i++) squared += (end[i] - reference[i]) ** 2;
      rows.push({ method, steps, evaluations: steps * EVALUATIONS_PER_STEP[method], error: Math.sqrt(squared / points) });
    }
  }
  return rows;
}

/** Order of convergence from the last `tail` rows of one method: −slope of log error vs log steps. */
export function observedOrder(rows: readonly SolverErrorRow[], tail = 3): number {
  const last = rows.slice(-tail);
  const xs = last.map((r) => Math.log(r.steps));
  const ys = last.map((r) => Math.log(r.error));
  const mx = xs.reduce((a, b) => a + b, 0) / xs.length;
  const my = ys.reduce((a, b) => a + b, 0) / ys.length;
  const num = xs.reduce((a, x, i) => a + (x - mx) * (ys[i] - my), 0);
  const den = xs.reduce((a, x) => a + (x - mx) ** 2, 0);
  return -num / den;
}

/** Where a text label sits relative to its point: an offset in pixels and the side its text grows to. */
export interface LabelPlacement {
  dx: number;
  dy: number;
  textAnchor: "start" | "end";
}

/** Candidate spots, tried in order: right of the point, left, above right, below right, above left, below left. */
export function labelCandidates(gap = 7, height = 11): LabelPlacement[] {
  const up = -(height / 2 + gap / 2 + 2);
  const down = height / 2 + gap / 2 + 2;
  return [
    { dx: gap, dy: 0, textAnchor: "start" },
    { dx: -gap, dy: 0, textAnchor: "end" },
    { dx: gap / 2, dy: up, textAnchor: "start" },
    { dx: gap / 2, dy: down, textAnchor: "start" },
    { dx: -gap / 2, dy: up, textAnchor: "end" },
    { dx: -gap / 2, dy: down, textAnchor: "end" },
  ];
}

interface Box {
  left: number;
  right: number;
  top: number;
  bottom: number;
}

/**
 * Place one text label per point (pixel coordinates, y down) so that no label overprints another label
 * or any of the points: each label takes the first free candidate spot (labelCandidates) inside `bounds`,
 * and is left off (null) when none is free. Earlier points win, so put the labels that matter most first.
 * Text is centred vertically on its spot, as Plot's text mark draws it.
 */
export function placeLabels(
  points: readonly { x: number; y: number }[],
  sizes: readonly { width: number; height: number }[],
  bounds: Box,
  { dotRadius = 4, candidates = labelCandidates() }: { dotRadius?: number; candidates?: readonly LabelPlacement[] } = {},
): (LabelPlacement | null)[] {
  const overlaps = (a: Box, b: Box) => a.left < b.right && b.left < a.right && a.top < b.bottom && b.top < a.bottom;
  const taken: Box[] = points.map(({ x, y }) => ({ left: x - dotRadius, right: x + dotRadius, top: y - dotRadius, bottom: y + dotRadius }));
  return points.map(({ x, y }, i) => {
    const { width, height } = sizes[i];
    for (const spot of candidates) {
      const left = spot.textAnchor === "start" ? x + spot.dx : x + spot.dx - width;
      const box = { left, right: left + width, top: y + spot.dy - height / 2, bottom: y + spot.dy + height / 2 };
      const inside = box.left >= bounds.left && box.right <= bounds.right && box.top >= bounds.top && box.bottom <= bounds.bottom;
      if (inside && !taken.some((other) => overlaps(box, other))) {
        taken.push(box);
        return spot;
      }
    }
    return null;
  });
}
