import { test } from "node:test";
import assert from "node:assert/strict";
import { compareSpreads, describeScaling, ratioToTeacher, stepwiseTrend, scalingConfig, summarizeScaling, SCALING_WIDTHS, type ScalingPoint } from "../src/components/toy/experiments/scaling.ts";
import { configFromSettings, PAPER_SETTINGS, STABILIZER_NETWORK } from "../src/components/toy/experiments/stabilizers.ts";

test("scalingConfig is the stabilizers page's recipe with only the width changed", () => {
  for (const objective of ["teacher", "scd", "sct"] as const) {
    const base = configFromSettings(PAPER_SETTINGS, objective, 3);
    const scaled = scalingConfig(64, objective, 3);
    assert.equal(scaled.network.hidden, 64);
    assert.deepEqual({ ...scaled, network: { ...scaled.network, hidden: base.network.hidden } }, base);
  }
  // At the stabilizers page's own width the configuration is identical: the precompute shares those teachers.
  assert.deepEqual(scalingConfig(STABILIZER_NETWORK.hidden, "teacher", 0), configFromSettings(PAPER_SETTINGS, "teacher", 0));
  assert.throws(() => scalingConfig(30, "sct"), /multiple/);
  for (const width of SCALING_WIDTHS) assert.equal(width % STABILIZER_NETWORK.groups, 0);
});

test("ratioToTeacher divides seed by seed, not mean by mean", () => {
  // Seed 0 has a bad teacher and a bad student: per seed the ratio is exactly 2 both times.
  const point: ScalingPoint = { width: 16, teacher: [0.04, 0.02], students: { scd: [0.08, 0.04], sct: [0.04, 0.04] } };
  const scd = ratioToTeacher(point, "scd");
  assert.equal(scd.value, 2);
  assert.equal(scd.spread, 0);
  const sct = ratioToTeacher(point, "sct");
  assert.equal(sct.value, 1.5); // (1 + 2)/2
  assert.ok(Math.abs(sct.spread - Math.SQRT1_2) < 1e-12); // sd of [1, 2]
  assert.throws(() => ratioToTeacher({ ...point, students: { scd: [0.1], sct: [0.1] } }, "scd"), /seeds/);
});

/** Four seeds per width, teachers improving with width; students at a given ratio (+ per-seed noise). */
function points(ratios: Record<"scd" | "sct", number[]>, noise: Record<"scd" | "sct", number[]>, independent = false): ScalingPoint[] {
  return [16, 32, 64].map((width, w) => {
    const teacher = [1, 1.1, 0.9, 1.05].map((v) => (v * 0.04) / (w + 1));
    // Noise common to a seed at every width (paired), or rotated so that each width's seeds differ (independent).
    const noiseOf = (method: "scd" | "sct", i: number) => noise[method][independent ? (i + w) % noise[method].length : i];
    const student = (method: "scd" | "sct") => teacher.map((q, i) => q * (ratios[method][w] + noiseOf(method, i)));
    return { width, teacher, students: { scd: student("scd"), sct: student("sct") } };
  });
}

test("summarizeScaling: a constant ratio is a tie at every pair of widths; a drifting one is not", () => {
  const data = points({ scd: [1.3, 1.3, 1.3], sct: [1.2, 1.6, 2.4] }, { scd: [0.02, -0.02, 0.01, -0.01], sct: [0.03, -0.03, 0.02, -0.02] });
  const scd = summarizeScaling(data, "scd");
  assert.deepEqual(scd.differingPairs, []);
  assert.ok(Math.abs(scd.range[0] - 1.3) < 1e-9 && Math.abs(scd.range[1] - 1.3) < 1e-9);
  assert.match(describeScaling(scd), /^sCD \(distilled\): between 1\.30× and 1\.30× its teacher's sliced W₂ across widths 16–64 \(± 0\.02 over seeds, on average\); no two widths' ratios differ beyond the spread$/);
  const sct = summarizeScaling(data, "sct");
  assert.deepEqual(sct.differingPairs, ["16 vs 32", "16 vs 64", "32 vs 64"]);
  assert.deepEqual(sct.range.map((x) => Number(x.toFixed(6))), [1.2, 2.4]);
  assert.match(describeScaling(sct), /differs beyond the spread between widths 16 vs 32, 16 vs 64, 32 vs 64$/);
});

test("summarizeScaling: seeds are paired across widths", () => {
  // 1.3 → 1.35 with per-seed noise of ±0.2 that differs between widths: inside the spread, a tie.
  const noise = { scd: [0.2, -0.2, 0.15, -0.15], sct: [0, 0, 0, 0] };
  assert.deepEqual(summarizeScaling(points({ scd: [1.3, 1.32, 1.35], sct: [1.3, 1.3, 1.3] }, noise, true), "scd").differingPairs, []);
  // The same drift when every seed keeps its offset at every width: the per-seed differences are all alike, so it
  // is called (the offset is the seed's, and cancels).
  assert.deepEqual(summarizeScaling(points({ scd: [1.3, 1.32, 1.35], sct: [1.3, 1.3, 1.3] }, noise), "scd").differingPairs, ["16 vs 32", "16 vs 64", "32 vs 64"]);
});

test("compareSpreads counts the widths where one method's ratio varies more over seeds", () => {
  const data = points({ scd: [1.3, 1.3, 1.3], sct: [1.5, 1.5, 1.5] }, { scd: [0.02, -0.02, 0.01, -0.01], sct: [0.2, -0.2, 0.1, -0.1] });
  const [scd, sct] = [summarizeScaling(data, "scd"), summarizeScaling(data, "sct")];
  assert.equal(compareSpreads(sct, scd), "sCT (trained from data)'s ratio spreads wider over seeds than sCD (distilled)'s at 3 of 3 widths");
  assert.equal(compareSpreads(scd, sct), "sCD (distilled)'s ratio spreads wider over seeds than sCT (trained from data)'s at 0 of 3 widths");
});

test("stepwiseTrend: lower is better, each width against the one before, seed by seed", () => {
  const m = (values: number[]) => ({ value: values.reduce((a, b) => a + b) / values.length, spread: 0.001, perSeed: values });
  const trend = stepwiseTrend([
    { x: 16, measured: m([0.04, 0.041, 0.039, 0.04]) },
    { x: 32, measured: m([0.03, 0.031, 0.029, 0.03]) }, // 0.01 lower on every seed: improves
    { x: 64, measured: m([0.031, 0.029, 0.031, 0.029]) }, // ±0.001 around the same: a tie
    { x: 128, measured: m([0.04, 0.038, 0.04, 0.038]) }, // 0.009 higher on every seed: worse
  ]);
  assert.equal(trend, "improves from 16 to 32, no change beyond the spread from 32 to 64, gets worse from 64 to 128");
});
