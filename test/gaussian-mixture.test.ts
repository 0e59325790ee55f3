import { test } from "node:test";
import assert from "node:assert/strict";
import {
  createMixture, sampleMixture, mixtureMoments, marginalLogDensity, exactVelocity, exactFlowNetwork,
  posteriorMeanX0, idealConsistencyFunction, marginalVariances,
} from "../src/components/trigflow/gaussian-mixture.ts";
import { mixturePreset, MIXTURE_PRESETS, type MixturePresetName } from "../src/components/toy/mixture-presets.ts";
import { SIGMA_D } from "../src/components/trigflow/trigflow.ts";
import { solveAdaptive } from "../src/components/trigflow/ode-solvers.ts";
import { arrayOps } from "../src/components/math/linear-ops.ts";
import { createRng, normalArray } from "../src/components/math/rng.ts";
import { assertClose } from "./helpers.ts";

// One Gaussian N(μ, s²I) with s ≠ σd: the PF-ODE flow is affine and known in closed form.
// With v(t) = cos²t·s² + sin²t·σd², the flow from t = 0 is x_t = cos t·μ + √v(t)/s·(x0 − μ).
const mu = [0.8, -0.4, 0.3];
const s = 0.3;
const single = createMixture([mu], s);
const v = (t: number) => Math.cos(t) ** 2 * s * s + Math.sin(t) ** 2 * SIGMA_D ** 2;
const flowFromData = (x0: Float64Array, t: number) => x0.map((x, i) => Math.cos(t) * mu[i % 3] + (Math.sqrt(v(t)) / s) * (x - mu[i % 3]));
const flowToData = (xt: Float64Array, t: number) => xt.map((x, i) => mu[i % 3] + (s / Math.sqrt(v(t))) * (x - Math.cos(t) * mu[i % 3]));

const rng = createRng(7);
const points = normalArray(rng, 3 * 4, 0.6); // four 3-D points

test("single Gaussian: the exact velocity is the time derivative of the closed-form flow", () => {
  for (const t of [0.05, 0.5, 1.0, 1.5]) {
    const x0 = flowToData(points, t);
    const h = 1e-5; // central difference of a smooth map: error ~h² ≈ 1e-10
    const fd = flowFromData(x0, t + h).map((x, i) => (x - flowFromData(x0, t - h)[i]) / (2 * h));
    assertClose(exactVelocity(single)(points, t), fd, 1e-8, `t=${t}`);
  }
});

test("single Gaussian: integrating the exact velocity reproduces the closed-form flow both ways", () => {
  const x0 = points;
  const forward = solveAdaptive(arrayOps, exactVelocity(single), x0, 0, 1.3).x;
  assertClose(forward, flowFromData(x0, 1.3), 1e-8, "0 → 1.3");
  const ideal = idealConsistencyFunction(single);
  assertClose(ideal(forward, 1.3), x0, 1e-8, "f*(x_t, t) = x0");
  assertClose(ideal(points, 1.5), flowToData(points, 1.5), 1e-8, "f* closed form");
});

test("mixture: velocity = −tan t·(x + σd²∇log p_t(x)), checked with a numerical score", () => {
  // The PF-ODE of x_t = cos t·x0 + sin t·z, z ~ N(0, σd²I), written with the score (independent of the
  // posterior formulas the implementation uses): dx/dt = −tan t·(x + σd²·∇log p_t).
  const mix = createMixture([[0.5, 0], [-0.4, 0.3], [0, -0.6]], [0.1, 0.2, 0.15], [1, 2, 1]);
  const x = Float64Array.from([0.2, 0.1, -0.3, -0.2, 0.6, 0.5]);
  for (const t of [0.15, 0.6, 1.2]) {
    const h = 1e-5;
    const score = x.map((_, i) => {
      const plus = x.slice();
      const minus = x.slice();
      plus[i] += h;
      minus[i] -= h;
      const p = Math.floor(i / 2);
      return (marginalLogDensity(mix, plus, t)[p] - marginalLogDensity(mix, minus, t)[p]) / (2 * h);
    });
    const expected = x.map((xi, i) => -Math.tan(t) * (xi + SIGMA_D ** 2 * score[i]));
    // log-density differences lose ~1e-16·|log p|/h ≈ 1e-10 to round-off; the score is O(10) here.
    assertClose(exactVelocity(mix)(x, t), expected, 1e-7, `t=${t}`);
    // Tweedie: E[x0 | x_t] = (x_t + σd² sin²t·∇log p_t)/cos t, an independent check of the denoiser.
    const tweedie = x.map((xi, i) => (xi + SIGMA_D ** 2 * Math.sin(t) ** 2 * score[i]) / Math.cos(t));
    assertClose(posteriorMeanX0(mix)(x, t), tweedie, 1e-7, `denoiser t=${t}`);
  }
});

test("F* is the velocity in network units: σd·F*(x/σd, t) = (cos t·x − E[x0 | x_t = x])/sin t, for any σd", () => {
  // x_t = cos t·x0 + sin t·z gives dx_t/dt = −sin t·x0 + cos t·z = (cos t·x_t − x0)/sin t; its posterior mean is the
  // velocity. The denoiser E[x0 | x_t] is checked against Tweedie's formula above, so this pins F* independently
  // of exactVelocity, including the factors of σd in and out of network units.
  const x = Float64Array.from([0.3, -0.2]);
  for (const sigmaD of [SIGMA_D, 1.3]) {
    const mix = mixturePreset("ring", { modes: 5, spread: 0.08 });
    for (const t of [0.2, 0.7, 1.4]) {
      const F = exactFlowNetwork(mix, sigmaD)(x.map((xi) => xi / sigmaD), t);
      const x0 = posteriorMeanX0(mix, sigmaD)(x, t);
      const expected = x.map((xi, i) => (Math.cos(t) * xi - x0[i]) / Math.sin(t));
      assertClose(F.map((f) => sigmaD * f), expected, 1e-12, `σd=${sigmaD}, t=${t}`);
    }
  }
});

test("every point of one exact trajectory maps to the same x0 under f* (the consistency property)", () => {
  const mix = mixturePreset("grid", { modes: 9, spread: 0.06 });
  const start = Float64Array.from([0.3, -0.45]);
  const velocity = exactVelocity(mix);
  const ideal = idealConsistencyFunction(mix);
  const endpoint = ideal(start, 1.5);
  let x: Float64Array = start;
  let t = 1.5;
  for (const next of [1.2, 0.8, 0.4, 0.1]) {
    x = solveAdaptive(arrayOps, velocity, x, t, next).x;
    t = next;
    assertClose(ideal(x, t), endpoint, 1e-7, `from t=${t}`);
  }
  assertClose(ideal(endpoint, 0), endpoint, 0, "f*(x, 0) = x");
  // The denoiser E[x0|x_t] differs from f* away from t = 0: it averages over modes.
  assert.ok(Math.hypot(...posteriorMeanX0(mix)(start, 1.5).map((v, i) => v - endpoint[i])) > 0.1);
});

test("sampled moments agree with the exact mixture moments", () => {
  const mix = createMixture([[1, 0], [-1, 0.5]], [0.2, 0.4], [3, 1]);
  const n = 100_000;
  const { points: xs } = sampleMixture(mix, n, createRng(3));
  const { mean, std } = mixtureMoments(mix);
  for (let j = 0; j < 2; j++) {
    let m = 0;
    let q = 0;
    for (let i = 0; i < n; i++) m += xs[2 * i + j];
    m /= n;
    for (let i = 0; i < n; i++) q += (xs[2 * i + j] - m) ** 2;
    const sd = Math.sqrt(q / n);
    // 5 standard errors: mean SE = std/√n, std SE ≈ std·√(kurtosis-ish)/√n, bounded by 2·std/√n here.
    assertClose(m, mean[j], (5 * std[j]) / Math.sqrt(n), `mean ${j}`);
    assertClose(sd, std[j], (10 * std[j]) / Math.sqrt(n), `std ${j}`);
  }
});

test("marginal density integrates to one and its variances interpolate s² → σd²", () => {
  const mix = mixturePreset("two-moons-ish", { modes: 16, spread: 0.07 });
  for (const t of [0.3, 1.0]) {
    const step = 0.02;
    const grid: number[] = [];
    for (let a = -3; a < 3; a += step) for (let b = -3; b < 3; b += step) grid.push(a, b);
    const logp = marginalLogDensity(mix, Float64Array.from(grid), t);
    const mass = logp.reduce((acc, l) => acc + Math.exp(l) * step * step, 0);
    assertClose(mass, 1, 1e-3, `mass t=${t}`); // midpoint-rule error on a smooth density with h = 0.02
  }
  assertClose(marginalVariances(single, 0), [s * s], 1e-15);
  assertClose(marginalVariances(single, Math.PI / 2), [SIGMA_D ** 2], 1e-15);
});

test("every preset is a valid 2D mixture whose data std is near σd", () => {
  for (const name of Object.keys(MIXTURE_PRESETS) as MixturePresetName[]) {
    const mix = mixturePreset(name, { modes: 8, spread: 0.05 });
    assert.equal(mix.dim, 2);
    const { std } = mixtureMoments(mix);
    for (const sd of std) assert.ok(sd > 0.25 && sd < 0.75, `${name}: std ${sd}`);
  }
});

test("invalid mixtures are refused with a clear message", () => {
  assert.throws(() => createMixture([], 0.1), /at least one component/);
  assert.throws(() => createMixture([[0, 0]], 0), /std > 0/);
  assert.throws(() => createMixture([[0, 0], [1]], 0.1), /same dimension/);
  assert.throws(() => createMixture([[0, 0]], 0.1, [0]), /not all be zero/);
});
