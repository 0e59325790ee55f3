import { test } from "node:test";
import assert from "node:assert/strict";
import { consistencyCheckpoints, exactTrajectories, observedOrder, solverErrorStudy } from "../src/components/toy/experiments/pf-ode.ts";
import { createMixture } from "../src/components/trigflow/gaussian-mixture.ts";
import { mixturePreset } from "../src/components/toy/mixture-presets.ts";
import { T_MAX } from "../src/components/trigflow/trigflow.ts";
import { createRng, normalArray } from "../src/components/math/rng.ts";
import { assertClose } from "./helpers.ts";

test("solver study: errors fall with the step count at each method's order, and cost counts evaluations", () => {
  const gaussian = createMixture([[0.3, -0.2]], 0.25);
  const starts = normalArray(createRng(4), 2 * 16, 0.5);
  const rows = solverErrorStudy(gaussian, starts, T_MAX, ["euler", "heun"], [16, 32, 64, 128], "uniform");
  const euler = rows.filter((r) => r.method === "euler");
  const heun = rows.filter((r) => r.method === "heun");
  for (const series of [euler, heun]) for (let i = 1; i < series.length; i++) assert.ok(series[i].error < series[i - 1].error);
  assert.ok(Math.abs(observedOrder(euler) - 1) < 0.25, `Euler order ${observedOrder(euler)}`);
  assert.ok(Math.abs(observedOrder(heun) - 2) < 0.25, `Heun order ${observedOrder(heun)}`);
  assert.deepEqual(heun.map((r) => r.evaluations), [32, 64, 128, 256]);
});

test("checkpoints along one path: f* lands on the path's end, the denoiser only near t = 0", () => {
  const mix = mixturePreset("ring", { modes: 6, spread: 0.05 });
  const start = Float64Array.from([0.05, -0.1]);
  const times = [T_MAX, 1.0, 0.5, 0.05];
  const endpoint = exactTrajectories(mix, start, [T_MAX, 0]).at(-1)!;
  const checkpoints = consistencyCheckpoints(mix, start, times);
  assert.deepEqual(checkpoints.map((c) => c.t), times);
  for (const c of checkpoints) assertClose(c.consistency, endpoint, 1e-7, `f* at t=${c.t}`);
  const miss = (c: (typeof checkpoints)[number]) => Math.hypot(c.denoiser[0] - endpoint[0], c.denoiser[1] - endpoint[1]);
  assert.ok(miss(checkpoints[0]) > 0.3, "at t_max the denoiser points near the data mean, far from the endpoint");
  assert.ok(miss(checkpoints[3]) < 0.05, "near t = 0 the denoiser agrees with f*");
});
