import { test } from "node:test";
import assert from "node:assert/strict";
import { solveInSlices } from "../src/ui/next-task.ts";
import { exactTrajectories } from "../src/components/toy/experiments/pf-ode.ts";
import { mixturePreset } from "../src/components/toy/mixture-presets.ts";
import { createRng, normalArray } from "../src/components/math/rng.ts";
import { uniformTimes } from "../src/components/trigflow/ode-solvers.ts";
import { SIGMA_D, T_MAX } from "../src/components/trigflow/trigflow.ts";

test("solveInSlices joins each part of the slices' answers in the original order, a slice per task", async () => {
  const points = Float64Array.from({ length: 2 * 7 }, (_, i) => i); // 7 points in 2-D, slices of 3, 3 and 1
  const sliceLengths: number[] = [];
  let turns = 0;
  const ticker = setInterval(() => turns++, 0);
  const parts = await solveInSlices(points, 2, 3, (slice) => {
    sliceLengths.push(slice.length);
    return [slice.map((v) => v * 10), slice.map((v) => -v)];
  });
  clearInterval(ticker);
  assert.deepEqual(sliceLengths, [6, 6, 2]);
  assert.deepEqual([...parts[0]], [...points].map((v) => v * 10));
  assert.deepEqual([...parts[1]], [...points].map((v) => -v));
  // A single array is one part.
  const [single] = await solveInSlices(points, 2, 4, (slice) => slice.map((v) => v + 1));
  assert.deepEqual([...single], [...points].map((v) => v + 1));
  assert.ok(turns >= 1, "the slices did not give the event loop a turn");
});

test("exact ODE paths solved in slices agree with one batched solve (the /trigflow paths)", async () => {
  // The adaptive solver chooses one step size for the whole batch, so slices take other steps; both are
  // within the reference tolerance (rtol 1e-9), far below what the figure can show.
  const mixture = mixturePreset("ring", { modes: 8, spread: 0.06 });
  const starts = normalArray(createRng(2024), 2 * 12, SIGMA_D);
  const times = uniformTimes(T_MAX, 0, 20);
  const whole = exactTrajectories(mixture, starts, times);
  const sliced = await solveInSlices(starts, 2, 5, (slice) => exactTrajectories(mixture, slice, times));
  assert.equal(sliced.length, whole.length);
  for (let i = 0; i < whole.length; i++) for (let j = 0; j < whole[i].length; j++) assert.ok(Math.abs(sliced[i][j] - whole[i][j]) < 1e-6, `time ${i}, coordinate ${j}`);
});
