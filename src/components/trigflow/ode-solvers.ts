/**
 * Solvers for the TrigFlow probability-flow ODE dx/dt = v(x, t) with v = σd·F(x/σd, t) (Eq. 3 / 24).
 * Each fixed-step method advances from time s to time t (t < s when sampling, from noise toward data).
 * All of them are generic over LinearOps, so they run on arrays and on tensors alike.
 */
import type { LinearOps } from "../math/linear-ops.js";
import { SIGMA_D, tFromSigma, sigmaFromT } from "./trigflow.js";

/** The PF-ODE right-hand side: dx/dt at state x and time t. */
export type VelocityField<T> = (x: T, t: number) => T;

/**
 * The raw network F(u, t) as a plain function of the scaled input u = x_t/σd and a scalar time (a trained
 * nn/network.ts FlowNetwork, or the exact F*, wrapped for the solvers).
 */
export type FlowFunction<T> = (u: T, t: number) => T;

/** A network's PF-ODE: dx/dt = σd·F(x_t/σd, t) (Eq. 3 / 24). */
export function velocityFromNetwork<T>(ops: LinearOps<T>, network: FlowFunction<T>, sigmaD = SIGMA_D): VelocityField<T> {
  return (x, t) => ops.combine([[sigmaD, network(ops.combine([[1 / sigmaD, x]]), t)]]);
}

/** One step of a fixed-step solver from time s to time t. */
export type Stepper = <T>(ops: LinearOps<T>, velocity: VelocityField<T>, x: T, s: number, t: number) => T;

/** Euler: x_t = x_s + (t − s)·v(x_s, s). First order, 1 evaluation per step. */
export const eulerStep: Stepper = (ops, velocity, x, s, t) => ops.combine([[1, x], [t - s, velocity(x, s)]]);

/** Heun (explicit trapezoid): Euler predictor, then the average of both slopes. Second order, 2 evaluations. */
export const heunStep: Stepper = (ops, velocity, x, s, t) => {
  const h = t - s;
  const k1 = velocity(x, s);
  const predicted = ops.combine([[1, x], [h, k1]]);
  const k2 = velocity(predicted, t);
  return ops.combine([[1, x], [h / 2, k1], [h / 2, k2]]);
};

/** Classical fourth-order Runge–Kutta, 4 evaluations per step. */
export const rk4Step: Stepper = (ops, velocity, x, s, t) => {
  const h = t - s;
  const k1 = velocity(x, s);
  const k2 = velocity(ops.combine([[1, x], [h / 2, k1]]), s + h / 2);
  const k3 = velocity(ops.combine([[1, x], [h / 2, k2]]), s + h / 2);
  const k4 = velocity(ops.combine([[1, x], [h, k3]]), t);
  return ops.combine([[1, x], [h / 6, k1], [h / 3, k2], [h / 3, k3], [h / 6, k4]]);
};

/**
 * TrigFlow DDIM, the exact first-order step (Eq. 26):
 *   x_t = cos(s − t)·x_s − sin(s − t)·σd·F(x_s/σd, s) = cos(s − t)·x_s − sin(s − t)·v(x_s, s).
 * It is exact whenever the predicted clean image does not change along the path (e.g. data = one point),
 * which is why it beats Euler at equal cost; a plain Euler step in t is not DDIM (App. B.1).
 */
export const ddimStep: Stepper = (ops, velocity, x, s, t) =>
  ops.combine([[Math.cos(s - t), x], [-Math.sin(s - t), velocity(x, s)]]);

export const STEPPERS = { euler: eulerStep, heun: heunStep, ddim: ddimStep, rk4: rk4Step } as const;
export type StepperName = keyof typeof STEPPERS;

/** Velocity evaluations per step, to compare methods at equal cost. */
export const EVALUATIONS_PER_STEP: Record<StepperName, number> = { euler: 1, heun: 2, ddim: 1, rk4: 4 };

/** Run a fixed-step solver along times[0] → times[1] → …; onStep sees every intermediate state. */
export function integrate<T>(
  ops: LinearOps<T>,
  velocity: VelocityField<T>,
  x: T,
  times: readonly number[],
  step: Stepper,
  onStep?: (x: T, t: number) => void,
): T {
  let state = x;
  onStep?.(state, times[0]);
  for (let i = 1; i < times.length; i++) {
    state = step(ops, velocity, state, times[i - 1], times[i]);
    onStep?.(state, times[i]);
  }
  return state;
}

/** `steps + 1` times evenly spaced in t from tStart to tEnd. */
export function uniformTimes(tStart: number, tEnd: number, steps: number): number[] {
  return Array.from({ length: steps + 1 }, (_, i) => tStart + ((tEnd - tStart) * i) / steps);
}

/**
 * EDM's (Karras et al.) grid mapped to TrigFlow time: σ_i = (σ_max^{1/ρ} + i/(N−1)·(σ_min^{1/ρ} − σ_max^{1/ρ}))^ρ
 * for i < N, with σ_max = σ(tStart), then a last step to t = 0. Dense near the data, where paths curve most.
 */
export function karrasTimes(tStart: number, steps: number, sigmaMin = 0.002, rho = 7, sigmaD = SIGMA_D): number[] {
  if (steps === 1) return [tStart, 0];
  const hi = sigmaFromT(tStart, sigmaD) ** (1 / rho);
  const lo = sigmaMin ** (1 / rho);
  const times = Array.from({ length: steps }, (_, i) => tFromSigma((hi + (i / (steps - 1)) * (lo - hi)) ** rho, sigmaD));
  times.push(0);
  return times;
}

export interface AdaptiveOptions {
  /** relative tolerance on each step's local error */
  rtol?: number;
  /** absolute tolerance on each step's local error */
  atol?: number;
  /** cap on accepted + rejected steps, to fail loudly instead of hanging */
  maxSteps?: number;
}

export interface AdaptiveResult<T> {
  x: T;
  /** velocity evaluations used */
  evaluations: number;
  acceptedSteps: number;
}

// Dormand–Prince 5(4) tableau (Hairer, Nørsett & Wanner, Solving ODEs I, Table 5.2).
const DP_C = [0, 1 / 5, 3 / 10, 4 / 5, 8 / 9, 1, 1];
const DP_A: number[][] = [
  [],
  [1 / 5],
  [3 / 40, 9 / 40],
  [44 / 45, -56 / 15, 32 / 9],
  [19372 / 6561, -25360 / 2187, 64448 / 6561, -212 / 729],
  [9017 / 3168, -355 / 33, 46732 / 5247, 49 / 176, -5103 / 18656],
  [35 / 384, 0, 500 / 1113, 125 / 192, -2187 / 6784, 11 / 84],
];
/** 5th-order weights (the same as the last row of A: "first same as last"). */
const DP_B5 = [35 / 384, 0, 500 / 1113, 125 / 192, -2187 / 6784, 11 / 84, 0];
const DP_B4 = [5179 / 57600, 0, 7571 / 16695, 393 / 640, -92097 / 339200, 187 / 2100, 1 / 40];

/**
 * The reference solver: adaptive Dormand–Prince 5(4) with local error control, integrating from tStart
 * to tEnd. With tight tolerances it is the "ground truth" that sCM Lab measures other solvers against.
 */
export function solveAdaptive<T>(
  ops: LinearOps<T>,
  velocity: VelocityField<T>,
  x: T,
  tStart: number,
  tEnd: number,
  { rtol = 1e-9, atol = 1e-10, maxSteps = 100_000 }: AdaptiveOptions = {},
): AdaptiveResult<T> {
  const direction = Math.sign(tEnd - tStart);
  let state = x;
  let t = tStart;
  let h = direction * Math.min(Math.abs(tEnd - tStart), 0.01);
  let evaluations = 0;
  let acceptedSteps = 0;
  if (direction === 0) return { x, evaluations, acceptedSteps };

  for (let attempt = 0; attempt < maxSteps; attempt++) {
    const lastStep = Math.abs(h) >= Math.abs(tEnd - t);
    if (lastStep) h = tEnd - t;
    const k: T[] = [];
    for (let stage = 0; stage < 7; stage++) {
      const terms: [number, T][] = [[1, state]];
      DP_A[stage].forEach((a, j) => a !== 0 && terms.push([h * a, k[j]]));
      k.push(velocity(stage === 0 ? state : ops.combine(terms), t + DP_C[stage] * h));
    }
    evaluations += 7;
    const next = ops.combine([[1, state], ...DP_B5.map((b, j) => [h * b, k[j]] as [number, T])]);
    const errorEstimate = ops.combine(DP_B5.map((b, j) => [h * (b - DP_B4[j]), k[j]] as [number, T]));
    const scale = atol + rtol * Math.max(ops.maxAbs(state), ops.maxAbs(next));
    const error = ops.maxAbs(errorEstimate) / scale;
    if (error <= 1 || Math.abs(h) < 1e-14) {
      t = lastStep ? tEnd : t + h;
      state = next;
      acceptedSteps++;
      if (lastStep) return { x: state, evaluations, acceptedSteps };
    }
    // Standard step-size update for a 5th-order pair, with safety factor 0.9 and growth limits.
    const factor = error === 0 ? 5 : Math.min(5, Math.max(0.2, 0.9 * error ** -0.2));
    h *= factor;
  }
  throw new Error(`solveAdaptive: no convergence within ${maxSteps} steps (stiff or non-finite velocity?)`);
}
