import { test } from "node:test";
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { STEPPERS, velocityFromNetwork, integrate, uniformTimes, karrasTimes, solveAdaptive, type StepperName } from "../src/components/trigflow/ode-solvers.ts";
import { createMixture, exactVelocity, exactFlowNetwork } from "../src/components/trigflow/gaussian-mixture.ts";
import { arrayOps } from "../src/components/math/linear-ops.ts";
import { tensorOps } from "../src/components/nn/tensor-ops.ts";
import { SIGMA_D, T_MAX } from "../src/components/trigflow/trigflow.ts";
import { assertClose, convergenceOrder } from "./helpers.ts";

// One 2-D Gaussian N(μ, s²I): its PF-ODE from t back to 0 is x0 = μ + s/√v(t)·(x_t − cos t·μ).
const mu = [0.6, -0.3];
const s = 0.2;
const gaussian = createMixture([mu], s);
const velocity = exactVelocity(gaussian);
const v = (t: number) => Math.cos(t) ** 2 * s * s + Math.sin(t) ** 2 * SIGMA_D ** 2;
const start = Float64Array.from([0.4, 0.7, -0.5, 0.1]);
const tStart = 1.4;
const exactEnd = start.map((x, i) => mu[i % 2] + (s / Math.sqrt(v(tStart))) * (x - Math.cos(tStart) * mu[i % 2]));

function errorWith(stepper: StepperName, steps: number): number {
  const end = integrate(arrayOps, velocity, start, uniformTimes(tStart, 0, steps), STEPPERS[stepper]);
  return arrayOps.maxAbs(arrayOps.combine([[1, end], [-1, exactEnd]]));
}

test("measured orders of convergence: Euler ≈ 1, DDIM ≈ 1, Heun ≈ 2, RK4 ≈ 4", () => {
  // Step counts chosen in the asymptotic range (errors well above round-off, steps well below 1/h blow-up).
  const cases: [StepperName, number[], number][] = [
    ["euler", [32, 64, 128, 256], 1],
    ["ddim", [32, 64, 128, 256], 1],
    ["heun", [16, 32, 64, 128], 2],
    ["rk4", [8, 16, 32, 64], 4],
  ];
  for (const [name, steps, order] of cases) {
    const measured = convergenceOrder(steps, steps.map((n) => errorWith(name, n)));
    // ±0.25 separates neighbouring orders cleanly while allowing pre-asymptotic curvature.
    assert.ok(Math.abs(measured - order) < 0.25, `${name}: measured order ${measured.toFixed(3)}, expected ${order}`);
  }
});

test("DDIM is exact in one step when the data is a single point (Eq. 26)", () => {
  // A near-point mass: the denoiser is constant, which is the case the DDIM step integrates exactly.
  const point = createMixture([mu], 1e-9);
  const x = Float64Array.from([0.3, -0.8]);
  const exact = solveAdaptive(arrayOps, exactVelocity(point), x, T_MAX, 0).x;
  const ddim = integrate(arrayOps, exactVelocity(point), x, [T_MAX, 0], STEPPERS.ddim);
  const euler = integrate(arrayOps, exactVelocity(point), x, [T_MAX, 0], STEPPERS.euler);
  assertClose(ddim, exact, 1e-7, "DDIM one step");
  assert.ok(arrayOps.maxAbs(arrayOps.combine([[1, euler], [-1, exact]])) > 0.1, "Euler in one step is far off");
});

test("the adaptive reference solver matches the closed form to its tolerance", () => {
  const result = solveAdaptive(arrayOps, velocity, start, tStart, 0, { rtol: 1e-10, atol: 1e-12 });
  assertClose(result.x, exactEnd, 1e-9);
  assert.ok(result.evaluations > 0 && result.acceptedSteps > 0);
  assert.throws(() => solveAdaptive(arrayOps, () => Float64Array.from([NaN, NaN, NaN, NaN]), start, 1, 0), /no convergence/);
});

test("time grids start where asked, end at 0 and decrease", () => {
  for (const grid of [uniformTimes(T_MAX, 0, 10), karrasTimes(T_MAX, 10), karrasTimes(1.2, 1)]) {
    assert.equal(grid[grid.length - 1], 0);
    for (let i = 1; i < grid.length; i++) assert.ok(grid[i] < grid[i - 1]);
  }
  assert.equal(uniformTimes(T_MAX, 0, 10).length, 11);
  assert.equal(karrasTimes(T_MAX, 10).length, 11);
  assertClose(karrasTimes(T_MAX, 10)[0], T_MAX, 1e-12);
  // The Karras grid spends its steps near the data: its second-to-last point is at σ_min = 0.002.
  assertClose(karrasTimes(T_MAX, 10)[9], Math.atan(0.002 / SIGMA_D), 1e-12);
});

test("the same solver code runs on tensors and agrees with float64 to float32 precision", () => {
  const linearVelocity = (x: tf.Tensor, t: number) => tf.mul(x, -Math.tan(t) * 0.3);
  const arrayVelocity = (x: Float64Array, t: number) => x.map((xi) => -Math.tan(t) * 0.3 * xi);
  const before = tf.memory().numTensors;
  const result = tf.tidy(() => integrate(tensorOps, linearVelocity, tf.tensor1d(Array.from(start)), uniformTimes(1.2, 0, 20), STEPPERS.heun).arraySync() as number[]);
  assert.equal(tf.memory().numTensors, before, "no tensors leak from a tidy solve");
  const reference = integrate(arrayOps, arrayVelocity, start, uniformTimes(1.2, 0, 20), STEPPERS.heun);
  assertClose(result, reference, 1e-5); // float32 ε ≈ 6e-8, times 20 steps of O(1) operations
});

test("a network's PF-ODE velocity is σd·F(x/σd, t) (Eq. 3): the exact F* gives back the exact velocity", () => {
  const mix = createMixture([[0.5, 0], [-0.5, 0.2]], [0.1, 0.3]);
  const fromNetwork = velocityFromNetwork(arrayOps, exactFlowNetwork(mix));
  for (const t of [0.2, 1.0, 1.5]) assertClose(fromNetwork(start, t), exactVelocity(mix)(start, t), 1e-14, `t=${t}`);
  // F(u) = u² has velocity σd·(x/σd)²: a nonlinear F exposes a missing or doubled σd on either side.
  assertClose(velocityFromNetwork(arrayOps, (u: Float64Array) => u.map((ui) => ui * ui), 0.5)(start, 0.3), start.map((x) => 0.5 * (x / 0.5) ** 2), 1e-15);
});
