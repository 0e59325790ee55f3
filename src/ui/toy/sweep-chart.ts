/**
 * A measured quantity against a swept setting (network width, P_mean, …): one line per series through each
 * point's mean over seeds, with a ± sd error bar, so a reader sees at once whether two points differ by more
 * than their spread. Used by the scaling page and the stabilizers page's time-proposal sweep.
 */
import * as Plot from "@observablehq/plot";
import type { Measured } from "../../components/toy/experiments/verdicts.js";
import { LOG_TICKS } from "./toy-run-charts.js";

export interface SweepSeries {
  label: string;
  /** a fixed colour, so that one series looks the same in every chart of a page */
  color?: string;
  points: { x: number; measured: Measured }[];
}

export interface SweepChartOptions {
  xLabel: string;
  yLabel: string;
  /** a log₂ x axis (widths) or a linear one */
  xLog?: boolean;
  yLog?: boolean;
  /** the x values to label (default: every swept value) */
  xTicks?: number[];
  /** horizontal reference lines, e.g. "ratio 1 = as good as the teacher" */
  references?: { label: string; value: number }[];
  /** digits for the hover text */
  format?: (v: number) => string;
  height?: number;
}

export function sweepChart(series: readonly SweepSeries[], width: number, { xLabel, yLabel, xLog = false, yLog = false, xTicks, references = [], format = (v) => v.toPrecision(3), height = 260 }: SweepChartOptions): HTMLElement | SVGElement {
  // Series side by side at each x would hide each other's bars: nudge them apart by a small fraction of a step.
  const rows = series.flatMap((s, i) =>
    s.points.map((p) => {
      const { value, spread } = p.measured;
      // On a log axis a bar reaching 0 cannot be drawn: its lower end is clipped at a tenth of the mean.
      const low = yLog ? Math.max(value - spread, value / 10) : value - spread;
      return { series: s.label, x: p.x, index: i, value, spread, low, high: value + spread, seeds: p.measured.perSeed?.length ?? 1 };
    }),
  );
  const ticks = xTicks ?? [...new Set(rows.map((r) => r.x))].sort((a, b) => a - b);
  // A true minus sign, as the page's text writes negative settings (P_mean = −2.2).
  const label = (x: number) => String(x).replace("-", "−");
  const offset = (d: (typeof rows)[number]) => {
    const shift = (d.index - (series.length - 1) / 2) * 0.04;
    return xLog ? d.x * 2 ** shift : d.x + shift * (ticks.length > 1 ? ticks[1] - ticks[0] : 1);
  };
  return Plot.plot({
    width,
    height,
    insetBottom: 10,
    insetLeft: 10,
    insetRight: 10,
    x: { type: xLog ? "log" : "linear", ...(xLog ? { base: 2 } : {}), label: `${xLabel} →`, ticks, tickFormat: label },
    y: { type: yLog ? "log" : "linear", label: `↑ ${yLabel}`, grid: true, ...(yLog ? { tickFormat: LOG_TICKS } : {}) },
    color: { legend: true, domain: series.map((s) => s.label), ...(series.every((s) => s.color) ? { range: series.map((s) => s.color!) } : {}) },
    marks: [
      ...references.flatMap((r) => [
        Plot.ruleY([r.value], { stroke: "#6b7280", strokeDasharray: "4 3" }),
        Plot.text([r.value], { x: ticks.at(-1), y: (d: number) => d, text: () => r.label, textAnchor: "end", dy: -7, fill: "#6b7280" }),
      ]),
      Plot.ruleX(rows, { x: offset, y1: "low", y2: "high", stroke: "series", strokeWidth: 1.5 }),
      Plot.line(rows, { x: offset, y: "value", stroke: "series", z: "series", strokeWidth: 2 }),
      Plot.dot(rows, { x: offset, y: "value", fill: "series", r: 4 }),
      Plot.tip(rows, Plot.pointer({ x: offset, y: "value", title: (d: (typeof rows)[number]) => `${d.series}, ${xLabel} ${label(d.x)}\n${format(d.value)} ± ${format(d.spread)} (mean ± sd over ${d.seeds} seeds)` })),
    ],
  });
}
