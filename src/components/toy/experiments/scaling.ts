/**
 * Finding 3 of the paper at toy scale: "sCD scales like the teacher", with a constant ratio between the
 * student's and the teacher's quality across model sizes (§5.2, Fig. 6), while sCT's quality depends on the
 * size less predictably. Here the same recipe is run at several widths of the MLP: a diffusion teacher per
 * width and seed, then sCD (distilled from it) and sCT (trained from data), both starting from the teacher's
 * weights (App. G.2) with the same budget. What is compared is each student's 2-step quality divided by its
 * own teacher's 100-NFE ODE quality, seed by seed.
 */
import { configFromSettings, PAPER_SETTINGS, STABILIZER_NETWORK } from "./stabilizers.js";
import type { ToyRunConfig } from "../toy-run-config.js";
import { compareLowerIsBetter, overSeeds, type Measured } from "./verdicts.js";

/** Hidden widths of the MLP (two residual blocks each): 8× in parameters per step of 2× in width, roughly. */
export const SCALING_WIDTHS = [16, 32, 64, 128] as const;

/** The student objectives compared: distillation from the teacher, and training from data. */
export const SCALING_METHODS = ["scd", "sct"] as const;
export type ScalingMethod = (typeof SCALING_METHODS)[number];

export const SCALING_METHOD_LABELS: Record<ScalingMethod, string> = { scd: "sCD (distilled)", sct: "sCT (trained from data)" };

/**
 * The stabilizers page's recipe (teacher or student) at another width. Group norm's groups stay
 * STABILIZER_NETWORK.groups, which divides every width.
 */
export function scalingConfig(width: number, objective: ToyRunConfig["objective"], seed = 0): ToyRunConfig {
  if (width % STABILIZER_NETWORK.groups !== 0) throw new RangeError(`width ${width} is not a multiple of the ${STABILIZER_NETWORK.groups} norm groups`);
  const config = configFromSettings(PAPER_SETTINGS, objective, seed);
  return { ...config, network: { ...config.network, hidden: width } };
}

/** One width's measurements over seeds, in seed order: the teacher's ODE quality and each student's final quality. */
export interface ScalingPoint {
  width: number;
  /** 100-NFE Heun ODE samples of each seed's teacher */
  teacher: readonly number[];
  /** each method's final 2-step (or 1-step) quality, one per seed */
  students: Record<ScalingMethod, readonly number[]>;
}

/** Student quality over its own teacher's, seed by seed (a seed's student starts from that seed's teacher), as mean ± sd. */
export function ratioToTeacher(point: ScalingPoint, method: ScalingMethod): Measured {
  const student = point.students[method];
  if (student.length !== point.teacher.length) throw new RangeError(`width ${point.width}: ${student.length} ${method} seeds against ${point.teacher.length} teachers`);
  return overSeeds(student.map((q, i) => q / point.teacher[i]));
}

export interface ScalingSummary {
  method: ScalingMethod;
  /** the ratio to the teacher at each width */
  ratios: { width: number; ratio: Measured }[];
  /** the smallest and largest mean ratio over the widths */
  range: [number, number];
  /** the mean over widths of the ratio's spread over seeds: how far one rerun lands from the mean */
  typicalSpread: number;
  /** pairs of widths whose ratios differ beyond their spread (verdicts.ts), e.g. "16 vs 64" */
  differingPairs: string[];
}

/**
 * How predictable a method is across widths: a method that "scales like the teacher" keeps the same ratio at
 * every width (every pair of widths a tie) with a small spread over seeds.
 */
export function summarizeScaling(points: readonly ScalingPoint[], method: ScalingMethod): ScalingSummary {
  const ratios = points.map((p) => ({ width: p.width, ratio: ratioToTeacher(p, method) }));
  const means = ratios.map((r) => r.ratio.value);
  const differingPairs: string[] = [];
  // Ratios at different widths come from different networks, but a seed's runs share data, noise and the
  // evaluation noise, so they are paired by seed like any two configurations (compareLowerIsBetter).
  for (let i = 0; i < ratios.length; i++) {
    for (let j = i + 1; j < ratios.length; j++) {
      if (compareLowerIsBetter(ratios[j].ratio, ratios[i].ratio).verdict !== "tie") differingPairs.push(`${ratios[i].width} vs ${ratios[j].width}`);
    }
  }
  return {
    method,
    ratios,
    range: [Math.min(...means), Math.max(...means)],
    typicalSpread: ratios.reduce((a, r) => a + r.ratio.spread, 0) / ratios.length,
    differingPairs,
  };
}

/**
 * One sentence per method, e.g. "sCD (distilled): between 1.21× and 1.34× its teacher's sliced W₂ across widths
 * 16–128 (± 0.05 over seeds, on average); no two widths' ratios differ beyond the spread".
 */
export function describeScaling(summary: ScalingSummary): string {
  const [low, high] = summary.range;
  const widths = summary.ratios.map((r) => r.width);
  const fixed = (x: number) => x.toFixed(2);
  const head = `${SCALING_METHOD_LABELS[summary.method]}: between ${fixed(low)}× and ${fixed(high)}× its teacher's sliced W₂ across widths ${widths[0]}–${widths.at(-1)} (± ${fixed(summary.typicalSpread)} over seeds, on average)`;
  // A tie everywhere says no dependence on the width could be detected within the spread, not that there is none.
  const tail =
    summary.differingPairs.length === 0
      ? "no two widths' ratios differ beyond the spread"
      : `the ratio differs beyond the spread between widths ${summary.differingPairs.join(", ")}`;
  return `${head}; ${tail}`;
}

/**
 * Which method's ratio to the teacher varies more from seed to seed, width by width: "sCT (trained from data)'s
 * ratio spreads wider over seeds than sCD (distilled)'s at 3 of 4 widths". A count, not a factor: the spread of a
 * spread over 4 seeds is itself too uncertain for an "N×".
 */
export function compareSpreads(a: ScalingSummary, b: ScalingSummary): string {
  const wider = a.ratios.filter((r, i) => r.ratio.spread > b.ratios[i].ratio.spread).length;
  return `${SCALING_METHOD_LABELS[a.method]}'s ratio spreads wider over seeds than ${SCALING_METHOD_LABELS[b.method]}'s at ${wider} of ${a.ratios.length} widths`;
}

/**
 * A measured quantity from one width to the next, in words (lower is better, compared seed by seed):
 * "improves from 16 to 32, improves from 32 to 64, no change beyond the spread from 64 to 128".
 */
export function stepwiseTrend(points: readonly { x: number; measured: Measured }[]): string {
  const words = { better: "improves", worse: "gets worse", tie: "no change beyond the spread" } as const;
  return points
    .slice(1)
    .map((p, i) => `${words[compareLowerIsBetter(p.measured, points[i].measured).verdict]} from ${points[i].x} to ${p.x}`)
    .join(", ");
}
