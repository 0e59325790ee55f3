import { test } from "node:test";
import assert from "node:assert/strict";
import {
  consistencySurfaces,
  coordinateAlongLine,
  densitySlices,
  joinSurfaces,
  lineThroughFarthestModes,
  pathLines3d,
  pointsOnLine,
} from "../src/components/toy/experiments/pf-ode-3d.ts";
import { REFERENCE_TOLERANCE, exactTrajectories, marginalDensityGrid } from "../src/components/toy/experiments/pf-ode.ts";
import { createMixture, idealConsistencyFunction, posteriorMeanX0 } from "../src/components/trigflow/gaussian-mixture.ts";
import { mixturePreset } from "../src/components/toy/mixture-presets.ts";
import { uniformTimes } from "../src/components/trigflow/ode-solvers.ts";
import { SIGMA_D, T_MAX } from "../src/components/trigflow/trigflow.ts";

test("3-D path lines: t runs from noise (t_max, at the start point) down to data (t = 0, at the path's end)", () => {
  const mix = mixturePreset("ring", { modes: 4, spread: 0.08 });
  const starts = Float64Array.from([0.3, -0.2, -0.5, 0.1, 0.05, 0.7]);
  const times = uniformTimes(T_MAX, 0, 20);
  const paths = exactTrajectories(mix, starts, times);
  const lines = pathLines3d(paths, times);
  assert.equal(lines.length, 3);
  for (const line of lines) {
    const p = line.path;
    assert.deepEqual(line.start, [starts[2 * p], starts[2 * p + 1]]);
    assert.equal(line.t[0], T_MAX, "the first point is the noise end");
    assert.equal(line.t.at(-1), 0, "the last point is the data end");
    assert.equal(line.x1[0], starts[2 * p]);
    assert.equal(line.x2[0], starts[2 * p + 1]);
    // x₁ and x₂ are not swapped, and the endpoint is the ODE's endpoint.
    assert.equal(line.x1.at(-1), paths.at(-1)![2 * p]);
    assert.equal(line.x2.at(-1), paths.at(-1)![2 * p + 1]);
    assert.equal(line.x1.length, times.length);
  }
  assert.throws(() => pathLines3d(paths, times.slice(1)), RangeError);
});

test("density slices: one mode's slice peaks at cos t·μ, with rows along x₂ and columns along x₁", () => {
  const mu = [0.6, -0.3];
  const mix = createMixture([mu], 0.1);
  const domain = [-1.3, 1.3] as const;
  const n = 104; // cell 0.025 wide
  for (const slice of densitySlices(mix, [0, 0.5, 1.0, T_MAX], domain, n)) {
    let best = { i: 0, j: 0, v: -1 };
    slice.density.forEach((row, i) => row.forEach((v, j) => v > best.v && (best = { i, j, v })));
    assert.ok(Math.abs(best.v - 1) < 1e-12, "relative to the peak");
    const cell = 2.6 / n;
    assert.ok(Math.abs(slice.coords[best.j] - Math.cos(slice.t) * mu[0]) <= cell, `x₁ of the peak at t=${slice.t}`);
    assert.ok(Math.abs(slice.coords[best.i] - Math.cos(slice.t) * mu[1]) <= cell, `x₂ of the peak at t=${slice.t}`);
  }
  // The same numbers as the 2-D figure's image, only flipped to rows going up in x₂.
  const [slice] = densitySlices(mix, [0.7], domain, 12);
  const image = marginalDensityGrid(mix, 0.7, domain, 12).values;
  assert.equal(slice.density[0][5], image[11 * 12 + 5]);
  assert.equal(slice.density[11][2], image[0 * 12 + 2]);
  assert.deepEqual(slice.coords.slice(0, 2).map((v) => +v.toFixed(6)), [-1.191667, -0.975]);
});

test("the line through the farthest modes: unit direction, centred between them, u growing with x₁", () => {
  const ring = lineThroughFarthestModes(mixturePreset("ring", { modes: 8, spread: 0.06 }));
  assert.ok(Math.hypot(...ring.center) < 1e-12);
  assert.ok(Math.abs(ring.direction[0] - 1) < 1e-12 && Math.abs(ring.direction[1]) < 1e-12, "the ring's x₁ axis");
  const pair = lineThroughFarthestModes(createMixture([[0.6, 0.45], [-0.5, -0.3]], 0.1));
  assert.ok(Math.abs(Math.hypot(...pair.direction) - 1) < 1e-12);
  assert.ok(pair.direction[0] > 0);
  const ends = pointsOnLine(pair, [-Math.hypot(1.1, 0.75) / 2, Math.hypot(1.1, 0.75) / 2]);
  assert.ok(Math.hypot(ends[0] + 0.5, ends[1] + 0.3) < 1e-12 && Math.hypot(ends[2] - 0.6, ends[3] - 0.45) < 1e-12, "u = ±half the distance hits the modes");
  assert.deepEqual(coordinateAlongLine(pair, pointsOnLine(pair, [-0.4, 0.25])).map((u) => +u.toFixed(12)), [-0.4, 0.25]);
});

test("surfaces: f* and the denoiser equal the library's functions at sample points, rows by t and columns by u", () => {
  const mix = mixturePreset("unbalanced-pair", { modes: 2, spread: 0.08 });
  const line = lineThroughFarthestModes(mix);
  const us = [-1, -0.3, 0.2, 0.9];
  const times = [0, 0.6, 1.2, T_MAX];
  const surfaces = joinSurfaces([consistencySurfaces(mix, line, us, times.slice(0, 2)), consistencySurfaces(mix, line, us, times.slice(2))]);
  assert.deepEqual(surfaces.times, times);
  assert.equal(surfaces.consistency.length, times.length);
  const ideal = idealConsistencyFunction(mix, SIGMA_D, REFERENCE_TOLERANCE);
  const denoise = posteriorMeanX0(mix, SIGMA_D);
  times.forEach((t, r) => {
    us.forEach((u, c) => {
      const x = pointsOnLine(line, [u]);
      const [fAlong] = coordinateAlongLine(line, ideal(x, t));
      const [dAlong] = coordinateAlongLine(line, denoise(x, t));
      assert.ok(Math.abs(surfaces.consistency[r][c] - fAlong) < 1e-6, `f* at u=${u}, t=${t}`);
      assert.ok(Math.abs(surfaces.denoiser[r][c] - dAlong) < 1e-12, `denoiser at u=${u}, t=${t}`);
    });
  });
  // At t = 0 both are the identity: the boundary condition f(x, 0) = x of Eq. 5.
  surfaces.consistency[0].forEach((v, c) => assert.ok(Math.abs(v - us[c]) < 1e-12));
});

test("surfaces tell the story: at t_max f* is a step between the two modes, the denoiser a smooth value between them", () => {
  const mix = mixturePreset("ring", { modes: 2, spread: 0.05 });
  const line = lineThroughFarthestModes(mix);
  const us = uniformTimes(-1.2, 1.2, 24);
  const { consistency, denoiser } = consistencySurfaces(mix, line, us, [T_MAX]);
  const half = 0.65; // the ring's radius: the modes sit at u = ±0.65
  us.forEach((u, c) => {
    if (Math.abs(u) < 0.05) return;
    assert.ok(Math.abs(consistency[0][c] - Math.sign(u) * half) < 0.2, `f* at u=${u} commits to the mode on its side (${consistency[0][c]})`);
    assert.ok(Math.abs(denoiser[0][c]) < 0.1, `the denoiser at u=${u} stays near the mean (${denoiser[0][c]})`);
  });
});
