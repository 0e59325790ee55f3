/**
 * The two figures of the TrigFlow page that show exact PF-ODE paths: noise becoming data at a time t (with
 * the exact marginal density as shading), and one path cut at several times with the consistency function's
 * and the denoiser's arrows from each cut. Functions of data and a width, as Framework's resize() wants.
 */
import * as Plot from "@observablehq/plot";
import * as d3 from "d3";
import { diffuse, sigmaFromT } from "../../components/trigflow/trigflow.js";
import type { GaussianMixture } from "../../components/trigflow/gaussian-mixture.js";
import { marginalDensityGrid, placeLabels, type ConsistencyCheckpoint } from "../../components/toy/experiments/pf-ode.js";

/** Exact paths and the samples drawn beside them. Points are flat [x, y, x, y, …] arrays. */
export interface PathsScene {
  mixture: GaussianMixture;
  /** data points x0 and their noise z, for the grey cloud x_t = cos t·x0 + sin t·z */
  data: Float64Array;
  noise: Float64Array;
  /** paths[i] holds every path's point at pathTimes[i] (decreasing times, from t_max to 0) */
  paths: Float64Array[];
  pathTimes: readonly number[];
  /** one colour per path */
  pathColor: readonly string[];
  /** the square both axes show */
  domain: [number, number];
}

/** The paths up to time t (bold) and after it (faint), their heads at t, the cloud of x_t and its density. */
export function pathsFigure(scene: PathsScene, t: number, width: number): SVGSVGElement | HTMLElement {
  const { data, noise, paths, pathTimes, pathColor, domain } = scene;
  const nPaths = pathColor.length;
  const xt = diffuse(data, noise, t);
  const head = d3.minIndex(pathTimes, (s) => Math.abs(s - t));
  type PathPoint = { path: number; x: number; y: number; color: string };
  const travelled: PathPoint[] = [];
  const ahead: PathPoint[] = [];
  for (let p = 0; p < nPaths; p++) {
    for (let i = 0; i < pathTimes.length; i++) {
      const point = { path: p, x: paths[i][2 * p], y: paths[i][2 * p + 1], color: pathColor[p] };
      (i <= head ? travelled : ahead).push(point);
      if (i === head) ahead.push(point);
    }
  }
  const heads = d3.range(nPaths).map((p) => ({ x: paths[head][2 * p], y: paths[head][2 * p + 1], color: pathColor[p] }));
  // Hover: every drawn point of every path says which noise point it started from and where it ends.
  const last = paths.length - 1;
  const pair = (a: number, b: number) => `(${a.toFixed(2)}, ${b.toFixed(2)})`;
  const pathTip = (point: PathPoint & { i: number }) =>
    `path ${point.path} at t = ${pathTimes[point.i].toFixed(3)}\nfrom noise ${pair(paths[0][2 * point.path], paths[0][2 * point.path + 1])}\nends at ${pair(paths[last][2 * point.path], paths[last][2 * point.path + 1])}`;
  const tipPoints = d3.range(nPaths).flatMap((p) => d3.range(0, pathTimes.length, 3).map((i) => ({ path: p, i, x: paths[i][2 * p], y: paths[i][2 * p + 1], color: pathColor[p] })));
  const density = marginalDensityGrid(scene.mixture, t, domain);
  return Plot.plot({
    width: Math.min(width, 560),
    aspectRatio: 1,
    clip: true,
    x: { domain, label: "x₁" },
    y: { domain, label: "x₂" },
    color: { type: "identity" },
    marks: [
      Plot.raster(density.values, { width: density.n, height: density.n, x1: domain[0], x2: domain[1], y1: domain[1], y2: domain[0], fill: (d: number) => d3.interpolateBlues(0.08 + 0.6 * d) }),
      Plot.dot(d3.range(data.length / 2), { x: (i: number) => xt[2 * i], y: (i: number) => xt[2 * i + 1], r: 1.3, fill: "#555", fillOpacity: 0.55 }),
      Plot.line(ahead, { x: "x", y: "y", z: "path", stroke: "color", strokeOpacity: 0.25 }),
      Plot.line(travelled, { x: "x", y: "y", z: "path", stroke: "color", strokeWidth: 1.8 }),
      Plot.dot(heads, { x: "x", y: "y", fill: "color", r: 4, stroke: "black", strokeWidth: 0.8 }),
      Plot.tip(tipPoints, Plot.pointer({ x: "x", y: "y", title: pathTip, maxRadius: 20 })),
    ],
  });
}

export interface ConsistencyScene {
  /** the data cloud, drawn faintly for context */
  data: Float64Array;
  paths: Float64Array[];
  pathTimes: readonly number[];
  pathIndex: number;
  /** the cuts of that path, each with where f* and the denoiser send it */
  checkpoints: readonly ConsistencyCheckpoint[];
  /** the path's true endpoint at t = 0 */
  endpoint: ArrayLike<number>;
}

const CONSISTENCY = "f*(x_t, t): consistency function";
const miss = (a: ArrayLike<number>, b: ArrayLike<number>) => Math.hypot(a[0] - b[0], a[1] - b[1]);
const DENOISER = "E[x₀|x_t]: diffusion denoiser";

/** One path, zoomed, with a green arrow (f*) and an orange arrow (the denoiser) from each cut. */
export function consistencyFigure({ data, paths, pathTimes, pathIndex, checkpoints, endpoint }: ConsistencyScene, width: number): SVGSVGElement | HTMLElement {
  const line = pathTimes.map((_, i) => ({ x: paths[i][2 * pathIndex], y: paths[i][2 * pathIndex + 1] }));
  const arrows = checkpoints.flatMap((c) => [
    { kind: CONSISTENCY, x1: c.xt[0], y1: c.xt[1], x2: c.consistency[0], y2: c.consistency[1] },
    { kind: DENOISER, x1: c.xt[0], y1: c.xt[1], x2: c.denoiser[0], y2: c.denoiser[1] },
  ]);
  // Zoom on this path and its arrows, keeping the axes square.
  const xs = [...line.map((d) => d.x), ...arrows.map((a) => a.x2)];
  const ys = [...line.map((d) => d.y), ...arrows.map((a) => a.y2)];
  const half = 0.6 * Math.max(d3.max(xs)! - d3.min(xs)!, d3.max(ys)! - d3.min(ys)!, 0.4);
  const [cx, cy] = [(d3.max(xs)! + d3.min(xs)!) / 2, (d3.max(ys)! + d3.min(ys)!) / 2];
  const options = {
    width: Math.min(width, 560),
    aspectRatio: 1,
    clip: true,
    x: { domain: [cx - half, cx + half], label: "x₁" },
    y: { domain: [cy - half, cy + half], label: "x₂" },
    color: { domain: [CONSISTENCY, DENOISER], range: ["#16a34a", "#ea580c"], legend: true },
  };
  const marks = [
    Plot.dot(d3.range(data.length / 2), { x: (i: number) => data[2 * i], y: (i: number) => data[2 * i + 1], r: 1.2, fill: "#999", fillOpacity: 0.4 }),
    Plot.line(line, { x: "x", y: "y", stroke: "#333", strokeWidth: 1.2 }),
    Plot.arrow(arrows, { x1: "x1", y1: "y1", x2: "x2", y2: "y2", stroke: "kind", strokeWidth: 1.4, headLength: 7, inset: 1 }),
    Plot.dot(checkpoints, { x: (c: ConsistencyCheckpoint) => c.xt[0], y: (c: ConsistencyCheckpoint) => c.xt[1], r: 3.5, fill: "#333" }),
    Plot.dot([endpoint], { x: (d: ArrayLike<number>) => d[0], y: (d: ArrayLike<number>) => d[1], r: 6, symbol: "star", fill: "#16a34a" }),
    // Hover a cut: how far each arrow lands from the path's true endpoint (the page's table, at the point).
    Plot.tip(checkpoints, Plot.pointer({ x: (c: ConsistencyCheckpoint) => c.xt[0], y: (c: ConsistencyCheckpoint) => c.xt[1], title: (c: ConsistencyCheckpoint) => `cut at t = ${c.t.toFixed(3)} (σ = ${sigmaFromT(c.t).toFixed(3)})\nf* lands ${miss(c.consistency, endpoint).toExponential(1)} from the endpoint\ndenoiser lands ${miss(c.denoiser, endpoint).toFixed(3)} from it` })),
  ];
  // The cuts near t = π/2 lie close together (the path barely moves there), so their "t=" labels would
  // overprint. Draw the figure once to learn its pixel scales, then label only the cuts whose label fits
  // beside its dot without touching another label or dot; the page's table lists every cut.
  const draft = Plot.plot({ ...options, marks });
  const [sx, sy] = [draft.scale("x")!, draft.scale("y")!];
  const text = checkpoints.map((c) => `t=${c.t.toFixed(2)}`);
  const pixels = (scale: Plot.Scale, v: number) => scale.apply!(v) as number;
  const range = (scale: Plot.Scale) => scale.range as number[];
  const placements = placeLabels(
    checkpoints.map((c) => ({ x: pixels(sx, c.xt[0]), y: pixels(sy, c.xt[1]) })),
    text.map((label) => ({ width: labelWidth(label), height: 11 })),
    { left: Math.min(...range(sx)), right: Math.max(...range(sx)), top: Math.min(...range(sy)), bottom: Math.max(...range(sy)) },
  );
  // Plot's dx, dy and textAnchor are per mark, so each placement gets a text mark of its own.
  const labelled = d3.range(checkpoints.length).filter((i) => placements[i]);
  const labels = d3.groups(labelled, (i) => JSON.stringify(placements[i])).map(([key, indices]) =>
    Plot.text(indices, {
      ...JSON.parse(key),
      x: (i: number) => checkpoints[i].xt[0],
      y: (i: number) => checkpoints[i].xt[1],
      text: (i: number) => text[i],
      fontSize: 10,
      fill: "currentColor",
      stroke: "var(--theme-background-alt)",
      strokeWidth: 3,
      paintOrder: "stroke",
    }),
  );
  return Plot.plot({ ...options, marks: [...marks, ...labels] });
}

let labelContext: CanvasRenderingContext2D | null = null;

/** Width of a 10 px label in Plot's default font, for placing labels. */
function labelWidth(label: string): number {
  labelContext ??= document.createElement("canvas").getContext("2d")!;
  labelContext.font = "10px system-ui, sans-serif";
  return Math.ceil(labelContext.measureText(label).width) + 2;
}
