/**
 * Figures for toy training runs, shared by the stabilizers and continuous-vs-discrete pages. Each takes
 * plain run data (precomputed or live, the same shape) and a width, and returns an element.
 */
import * as Plot from "@observablehq/plot";
import type { ToyEvaluation } from "../../components/toy/toy-evaluation.js";
import { gradientNormSummary, type SeedRun } from "../../components/toy/experiments/precomputed.js";
import { finalQuality, overSeeds, qualityCurveOverSeeds, type Measured } from "../../components/toy/experiments/verdicts.js";

/**
 * A run as the charts draw it: one run's full record (a live run, or a precomputed configuration's first seed),
 * and for precomputed configurations every seed's replicate, from which quality is shown as mean ± sd.
 */
export interface RunSeries {
  label: string;
  loss: number[];
  gradientNorm: number[];
  evaluations: ToyEvaluation[];
  seeds?: SeedRun[];
}

/**
 * A rolling mean over `window` steps, so trends show through the step-to-step noise. Non-finite entries
 * (steps a live run's throttled messages skipped) are left out of each window.
 */
export function rollingMean(values: readonly number[], window: number): { step: number; value: number }[] {
  const out: { step: number; value: number }[] = [];
  const stride = Math.max(1, Math.floor(window / 2));
  for (let i = window - 1; i < values.length; i++) {
    if (i % stride !== 0 && i !== values.length - 1) continue;
    const finite = values.slice(i - window + 1, i + 1).filter(Number.isFinite);
    if (finite.length > 0) out.push({ step: i + 1, value: finite.reduce((a, b) => a + b, 0) / finite.length });
  }
  return out;
}

const colorScale = (runs: RunSeries[]) => ({ legend: true, domain: runs.map((r) => r.label) });

/**
 * Tick labels for log axes: d3's log ticks with a "~g" specifier read 0.001, 0.01, 0.1 (or 1e-5), and keep d3's
 * thinning of crowded labels. Plot's default is SI, which prints "1m" for 0.001.
 */
export const LOG_TICKS = "~g";

/** Per-step values (thin) with their rolling mean (thick), on a log scale. */
export function stepChart(runs: RunSeries[], key: "loss" | "gradientNorm", width: number, { label = key === "loss" ? "loss" : "‖∇θ L‖", window = 20, log = true } = {}): HTMLElement | SVGElement {
  const raw = runs.flatMap((r) => r[key].map((value, i) => ({ run: r.label, step: i + 1, value })).filter((d) => Number.isFinite(d.value) && (!log || d.value > 0)));
  const smooth = runs.flatMap((r) => rollingMean(r[key], window).map((d) => ({ ...d, run: r.label })));
  return Plot.plot({
    width,
    height: 240,
    // The lowest reference line (often the exact ODE) would otherwise lie on the x-axis.
    insetBottom: 10,
    x: { label: "training step →" },
    y: { type: log ? "log" : "linear", label: `↑ ${label}`, grid: true, ...(log ? { tickFormat: LOG_TICKS } : {}) },
    color: colorScale(runs),
    marks: [
      Plot.line(raw, { x: "step", y: "value", stroke: "run", z: "run", strokeOpacity: 0.18, strokeWidth: 1 }),
      Plot.line(smooth, { x: "step", y: "value", stroke: "run", z: "run", strokeWidth: 2 }),
      Plot.tip(smooth, Plot.pointerX({ x: "step", y: "value", stroke: "run", title: (d: { run: string; step: number; value: number }) => `${d.run}, step ${d.step}\n${label}: ${d.value.toPrecision(3)} (mean of ${window} steps)` })),
    ],
  });
}

/**
 * Exact sample quality (sliced W₂ to the true mixture, lower is better) over training, with reference levels. A
 * run trained over several seeds shows its mean over seeds as the line and mean ± sd as a band (verdicts.ts
 * overSeeds: the spread its verdicts are judged against); a single run shows its own measurements.
 */
export function qualityChart(runs: RunSeries[], width: number, references: { label: string; value: number }[] = [], which: "twoStep" | "oneStep" = "twoStep"): HTMLElement | SVGElement {
  const rows = runs.flatMap((r) =>
    r.seeds && r.seeds.length > 1
      ? qualityCurveOverSeeds(r.seeds, which).map((m) => ({ run: r.label, step: m.iteration, value: m.value, spread: m.spread, seeds: m.seeds }))
      : r.evaluations.map((e) => ({ run: r.label, step: e.iteration, value: e[which], spread: 0, seeds: 1 })),
  );
  // A log axis cannot show a band that reaches 0 or below: clip its lower edge at a tenth of the mean.
  const band = rows.filter((d) => d.seeds > 1).map((d) => ({ ...d, low: Math.max(d.value - d.spread, d.value / 10), high: d.value + d.spread }));
  const samples = which === "twoStep" ? "2" : "1";
  type Row = (typeof rows)[number];
  return Plot.plot({
    width,
    height: 240,
    // The lowest reference line (often the exact ODE) would otherwise lie on the x-axis.
    insetBottom: 10,
    x: { label: "training step →" },
    y: { type: "log", label: `↑ sliced W₂ of ${samples}-step samples (lower is better)`, grid: true, tickFormat: LOG_TICKS },
    color: colorScale(runs),
    marks: [
      Plot.areaY(band, { x: "step", y1: "low", y2: "high", fill: "run", z: "run", fillOpacity: 0.15 }),
      Plot.ruleY(references, { y: "value", stroke: "#6b7280", strokeDasharray: "4 3" }),
      // Reference lines often lie close together (teacher ODE vs exact ODE): alternate their labels between the
      // left and right ends, so two labels never print over each other.
      ...[...references].sort((a, b) => a.value - b.value).map((ref, i) =>
        Plot.text([ref], { y: "value", text: "label", frameAnchor: i % 2 === 0 ? "left" : "right", textAnchor: i % 2 === 0 ? "start" : "end", dy: -6, dx: i % 2 === 0 ? 4 : -4, fill: "#6b7280" }),
      ),
      Plot.line(rows, { x: "step", y: "value", stroke: "run", z: "run", strokeWidth: 2, marker: "circle-stroke" }),
      Plot.tip(rows, Plot.pointer({
        x: "step",
        y: "value",
        stroke: "run",
        title: (d: Row) =>
          d.seeds > 1
            ? `${d.run}, step ${d.step}\nsliced W₂ ${d.value.toFixed(4)} ± ${d.spread.toFixed(4)} (${samples}-step samples; mean ± sd over ${d.seeds} seeds)`
            : `${d.run}, step ${d.step}\nsliced W₂ ${d.value.toFixed(4)} (${samples}-step samples)`,
      })),
    ],
  });
}

/** Mean ‖g‖ (before normalisation) per t bin, over the last measurement window of each run. */
export function tangentByTimeChart(runs: RunSeries[], width: number): HTMLElement | SVGElement {
  const rows = runs.flatMap((r) => {
    const last = [...r.evaluations].reverse().find((e) => e.diagnostics.tangentNormByTime.length > 0);
    return (last?.diagnostics.tangentNormByTime ?? []).map((b) => ({ run: r.label, t: (b.t0 + b.t1) / 2, mean: b.meanNorm, max: b.maxNorm }));
  });
  return Plot.plot({
    width,
    height: 240,
    x: { label: "TrigFlow time t →", domain: [0, Math.PI / 2] },
    y: { type: "log", label: "↑ ‖g‖ before normalisation (line: mean, ×: max)", grid: true, tickFormat: LOG_TICKS },
    color: colorScale(runs),
    marks: [
      Plot.line(rows, { x: "t", y: "mean", stroke: "run", z: "run", strokeWidth: 2, marker: "dot" }),
      Plot.dot(rows, { x: "t", y: "max", stroke: "run", symbol: "times" }),
      Plot.tip(rows, Plot.pointer({ x: "t", y: "mean", stroke: "run", title: (d: { run: string; t: number; mean: number; max: number }) => `${d.run}, t ≈ ${d.t.toFixed(2)}\n‖g‖ mean ${d.mean.toPrecision(3)}, max ${d.max.toPrecision(3)}` })),
    ],
  });
}

/**
 * Samples over the mixture's modes (circles of radius 2 std). Hover says which point of the evaluation noise
 * made a sample: every panel starts from the same noise, so the same number is the same noise point.
 */
export function samplesChart(flat: readonly number[], means: number[][], stds: number[], width: number, title: string): HTMLElement | SVGElement {
  const points = Array.from({ length: flat.length / 2 }, (_, i) => ({ i, x: flat[2 * i], y: flat[2 * i + 1] }));
  const size = Math.min(width, 260);
  const scale = { domain: [-1.3, 1.3] };
  return Plot.plot({
    width: size,
    height: size,
    caption: title,
    x: { ...scale, label: null, ticks: 0 },
    y: { ...scale, label: null, ticks: 0 },
    marks: [
      Plot.frame({ stroke: "#d1d5db" }),
      Plot.dot(means.map(([x, y], k) => ({ x, y, r: 2 * stds[k] })), { x: "x", y: "y", r: (d: { r: number }) => (d.r * size) / 2.6, stroke: "#9ca3af", strokeDasharray: "3 2" }),
      Plot.dot(points, { x: "x", y: "y", r: 1.2, fill: "#2563eb", fillOpacity: 0.5 }),
      Plot.tip(points, Plot.pointer({ x: "x", y: "y", maxRadius: 10, title: (d: { i: number; x: number; y: number }) => `from noise point #${d.i}\nsample (${d.x.toFixed(2)}, ${d.y.toFixed(2)})` })),
    ],
  });
}

/**
 * The numbers a table shows for a run: final exact quality, consistency error, gradient-norm statistics. For a
 * configuration trained over several seeds each is the mean ± sd over seeds (verdicts.ts overSeeds); for a single
 * run (a live one), that run's own final value.
 */
export interface RunSummary {
  setting: string;
  "1-step W₂": number | Measured;
  "2-step W₂": number | Measured;
  "grad-norm mean": number | Measured;
  /** coefficient of variation (std/mean) of ‖∇L‖ over the last 200 steps: the spread Fig. 5a compares */
  "grad-norm CV": number | Measured;
  "‖f − f*‖ at t = 0.3 / 0.8 / 1.3"?: string;
}

/** "0.0376" for a single value, "0.0376 ± 0.0012" for a mean over seeds. */
export function formatMeasured(x: number | Measured, format: (v: number) => string): string {
  return typeof x === "number" ? format(x) : x.spread > 0 ? `${format(x.value)} ± ${format(x.spread)}` : format(x.value);
}

export function runSummary(run: RunSeries): RunSummary | null {
  const last = run.evaluations.at(-1);
  if (!last) return null;
  if (run.seeds && run.seeds.length > 1) {
    const { seeds } = run;
    const quality = finalQuality(run.label, seeds);
    const errors = seeds.map((s) => s.consistencyError).filter((e) => e !== undefined);
    return {
      setting: run.label,
      "1-step W₂": quality.oneStep,
      "2-step W₂": quality.twoStep,
      "grad-norm mean": overSeeds(seeds.map((s) => s.gradientNorm.mean)),
      "grad-norm CV": overSeeds(seeds.map((s) => s.gradientNorm.cv)),
      ...(errors.length > 0 ? { "‖f − f*‖ at t = 0.3 / 0.8 / 1.3": errors[0].map((_, i) => formatMeasured(overSeeds(errors.map((e) => e[i].error)), (v) => v.toFixed(3))).join(" / ") } : {}),
    };
  }
  const gradientNorm = gradientNormSummary(run.gradientNorm);
  return {
    setting: run.label,
    "1-step W₂": last.oneStep,
    "2-step W₂": last.twoStep,
    "grad-norm mean": gradientNorm.mean,
    "grad-norm CV": gradientNorm.cv,
    // Older precomputed files lack the consistency error: the column then stays out.
    ...(last.consistencyError ? { "‖f − f*‖ at t = 0.3 / 0.8 / 1.3": last.consistencyError.map((e) => e.error.toFixed(3)).join(" / ") } : {}),
  };
}

export const SUMMARY_FORMAT = {
  "1-step W₂": (x: number | Measured) => formatMeasured(x, (v) => v.toFixed(4)),
  "2-step W₂": (x: number | Measured) => formatMeasured(x, (v) => v.toFixed(4)),
  "grad-norm mean": (x: number | Measured) => formatMeasured(x, (v) => v.toPrecision(3)),
  "grad-norm CV": (x: number | Measured) => formatMeasured(x, (v) => v.toFixed(2)),
};

/** The 1- and 2-step samples of each run's latest measurement that kept samples, side by side (runs without any are skipped). */
export function samplesRow(runs: readonly RunSeries[], mixture: { means: number[][]; stds: number[] }, width: number): HTMLElement {
  const row = document.createElement("div");
  row.className = "sample-row";
  for (const run of runs) {
    const samples = [...run.evaluations].reverse().find((e) => e.samples)?.samples;
    if (!samples) continue;
    for (const [key, steps] of [["oneStep", 1], ["twoStep", 2]] as const) {
      const cell = document.createElement("div");
      cell.append(samplesChart(samples[key], mixture.means, mixture.stds, width, `${run.label}: ${steps}-step`));
      row.append(cell);
    }
  }
  return row;
}
