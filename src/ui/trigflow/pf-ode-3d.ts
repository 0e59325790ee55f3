/**
 * The TrigFlow page's two rotatable 3-D views (plotly.js): the exact PF-ODE paths in (x₁, x₂, t) with
 * slices of the marginal density, and the ideal consistency function f* against the denoiser over
 * (position along a line, t). plotly is ~4.7 MB, so it is imported only when a view comes near the
 * screen; until then the view is a placeholder of the plot's size.
 */
import type * as PlotlyModule from "plotly.js";
import { T_MAX } from "../../components/trigflow/trigflow.js";
import { uniformTimes } from "../../components/trigflow/ode-solvers.js";
import type { GaussianMixture } from "../../components/trigflow/gaussian-mixture.js";
import {
  consistencySurfaces,
  densitySlices,
  joinSurfaces,
  lineThroughFarthestModes,
  pathLines3d,
  type ConsistencySurfaces,
} from "../../components/toy/experiments/pf-ode-3d.js";
import { nextTask } from "../next-task.js";

type Plotly = typeof PlotlyModule;

/** A figure as plotly takes it. Traces are loose objects: @types/plotly.js lacks surface's surfacecolor and opacityscale. */
export interface Figure3d {
  data: object[];
  layout: Partial<PlotlyModule.Layout>;
}

let plotly: Promise<Plotly> | undefined;
/** Set once plotly has been evaluated: later views draw on their own, as they come near the screen. */
let plotlyLoaded = false;

/** Import plotly once per page, on first need. A bare name: Framework bundles it from node_modules (no CDN). */
function loadPlotly(): Promise<Plotly> {
  plotly ??= withReadableCanvases(() => import("plotly.js-dist-min")).then((module) => {
    plotlyLoaded = true;
    return module.default;
  });
  return plotly;
}

/**
 * plotly's 3-D axis labels go through a text vectorizer that creates its 2-D canvas as plotly's module
 * evaluates, then reads it back pixel by pixel; Chrome logs a warning for such a canvas unless it was made
 * with `willReadFrequently`. While plotly loads, and only then, 2-D contexts default to that option.
 */
async function withReadableCanvases<T>(load: () => Promise<T>): Promise<T> {
  const prototype = HTMLCanvasElement.prototype;
  const original = prototype.getContext as (this: HTMLCanvasElement, kind: string, options?: object) => RenderingContext | null;
  prototype.getContext = function (this: HTMLCanvasElement, kind: string, options?: object) {
    return original.call(this, kind, kind === "2d" ? { willReadFrequently: true, ...options } : options);
  } as typeof prototype.getContext;
  try {
    return await load();
  } finally {
    prototype.getContext = original as typeof prototype.getContext;
  }
}

/** A near-square plot for a container width, smaller on a phone, never taller than a laptop screen wants. */
export function squareHeight(width: number): number {
  return Math.round(Math.min(560, Math.max(300, width * 0.92)));
}

export interface LazyPlot3d {
  /** the figure's accessible name */
  label: string;
  /** the traces, computed once after plotly has loaded (may take several tasks) */
  traces: () => Promise<object[]>;
  /** the layout for a container width, without width and height; recomputed when the width changes */
  layout: (width: number) => Partial<PlotlyModule.Layout>;
  height: (width: number) => number;
  /** runs once the plot exists, e.g. to listen to its events */
  drawn?: (Plotly: Plotly, plot: PlotlyModule.PlotlyHTMLElement) => void;
}

/**
 * A placeholder with a button that turns it into a plotly figure, which then follows the container's width.
 * Evaluating plotly's 4.7 MB bundle is one long task that nothing can split (measured 2.5–4.6 s on a busy
 * 2-core machine, a fraction of a second on a laptop), so it happens when the reader asks, never while they
 * scroll; once plotly is in, later views draw by themselves as they come within 250 px of the screen. Ends
 * (purges the plot, stops observing) when `invalidation` resolves, as Framework's cells do.
 */
export function lazyPlot3d({ label, traces, layout, height, drawn }: LazyPlot3d, invalidation: Promise<unknown>): HTMLDivElement {
  const root = document.createElement("div");
  root.className = "plot-3d";
  root.setAttribute("role", "figure");
  root.setAttribute("aria-label", label);
  const placeholder = document.createElement("div");
  placeholder.className = "small muted";
  placeholder.style.cssText = "margin: 0; display: flex; flex-direction: column; gap: 0.5em; align-items: center; justify-content: center;";
  const show = document.createElement("button");
  show.type = "button";
  show.textContent = "Show the 3-D view";
  const why = document.createElement("span");
  why.textContent = "It loads plotly.js (4.7 MB to evaluate: the page pauses for a moment).";
  placeholder.append(show, why);
  root.append(placeholder);
  // Keep the plot's size before it exists, so nothing below jumps when it appears.
  requestAnimationFrame(() => (placeholder.style.height = `${height(root.clientWidth || 640)}px`));

  let ended = false;
  let drawnWidth = 0;
  let data: PlotlyModule.Data[] = [];
  const config: Partial<PlotlyModule.Config> = { displaylogo: false, responsive: false, scrollZoom: false, modeBarButtonsToRemove: ["resetCameraLastSave3d"] };
  const sized = (width: number) => ({ ...layout(width), width, height: height(width) });
  const draw = async () => {
    const Plotly = await loadPlotly();
    await nextTask(); // evaluating plotly was one task; computing and drawing go in the next ones
    data = (await traces()) as PlotlyModule.Data[];
    if (ended) return;
    await nextTask();
    drawnWidth = root.clientWidth;
    placeholder.remove();
    const plot = await Plotly.newPlot(root, data, sized(drawnWidth), config);
    if (ended) return Plotly.purge(root);
    drawn?.(Plotly, plot);
    resizer.observe(root);
    invalidation.then(() => Plotly.purge(root));
  };
  let frame = 0;
  const resizer = new ResizeObserver(() => {
    cancelAnimationFrame(frame);
    frame = requestAnimationFrame(async () => {
      const width = root.clientWidth;
      if (ended || Math.abs(width - drawnWidth) < 1) return;
      drawnWidth = width;
      // react, not relayout: with the layout's constant uirevision, plotly keeps the reader's rotation.
      await (await loadPlotly()).react(root, data, sized(width), config);
    });
  });
  let started = false;
  const start = () => {
    if (started) return;
    started = true;
    near.disconnect();
    placeholder.textContent = "Loading the 3-D view…";
    // Two frames: the message is painted before plotly's evaluation holds the main thread.
    requestAnimationFrame(() => requestAnimationFrame(() => {
      draw().catch((error: Error) => {
        placeholder.textContent = `The 3-D view could not be drawn: ${error.message}`;
        if (!placeholder.isConnected) root.append(placeholder);
      });
    }));
  };
  show.addEventListener("click", start);
  const near = new IntersectionObserver((entries) => {
    if (plotlyLoaded && entries.some((e) => e.isIntersecting)) start();
  }, { rootMargin: "250px 0px" });
  near.observe(root);
  invalidation.then(() => {
    ended = true;
    near.disconnect();
    resizer.disconnect();
  });
  return root;
}

/** Fonts and margins for a width: the phone gets smaller type so the axis titles stay inside the frame. */
function sceneStyle(width: number) {
  const small = width < 500;
  return {
    font: { family: "system-ui, sans-serif", size: small ? 10 : 12, color: "#333" },
    margin: { l: 0, r: 0, t: small ? 24 : 28, b: 0 },
    paper_bgcolor: "rgba(0,0,0,0)",
    showlegend: false,
    // Any constant: plotly keeps the reader's camera when the layout is redrawn for a new width.
    uirevision: "keep",
  };
}

export interface PathsScene3d {
  mixture: GaussianMixture;
  /** paths[i] holds every path's point at pathTimes[i] (decreasing, from t_max to 0) */
  paths: readonly Float64Array[];
  pathTimes: readonly number[];
  pathColor: readonly string[];
  domain: [number, number];
}

/** The times of the density slices: data, two on the way, and (almost) pure noise. */
const SLICE_TIMES = [0, 0.5, 1.0, T_MAX];

/**
 * Exact PF-ODE paths (Eq. 3, solved to the reference tolerance) as lines in (x₁, x₂, t), t up: noise at
 * the top, data at the bottom. Horizontal slices show the exact density of x_t, so one sees the paths
 * follow the density as it splits into modes.
 */
export function pathsView3d(scene: PathsScene3d, invalidation: Promise<unknown>): HTMLDivElement {
  const { domain } = scene;
  return lazyPlot3d(
    {
      label: "Exact probability-flow paths in x₁, x₂ and t, with density slices",
      height: squareHeight,
      traces: async () => {
        const slices = densitySlices(scene.mixture, SLICE_TIMES, domain, 70);
        const surfaces = slices.map((slice) => ({
          type: "surface",
          x: slice.coords,
          y: slice.coords,
          z: slice.density.map((row) => row.map(() => slice.t)),
          surfacecolor: slice.density,
          cmin: 0,
          cmax: 1,
          colorscale: [[0, "#eff6ff"], [1, "#1d4ed8"]],
          // Empty space fades out, so the slices hide little of the paths behind them.
          opacityscale: [[0, 0], [0.15, 0.05], [1, 0.75]],
          showscale: false,
          hoverinfo: "skip",
          contours: { x: { highlight: false }, y: { highlight: false }, z: { highlight: false } },
          lighting: { ambient: 1, diffuse: 0, specular: 0, fresnel: 0 },
        }));
        const lines = pathLines3d(scene.paths, scene.pathTimes).map((line) => ({
          type: "scatter3d",
          mode: "lines",
          x: line.x1,
          y: line.x2,
          z: line.t,
          line: { color: scene.pathColor[line.path], width: 4 },
          hovertemplate:
            `path ${line.path + 1}, from noise (${line.start[0].toFixed(2)}, ${line.start[1].toFixed(2)})` +
            "<br>t = %{z:.3f}, x = (%{x:.2f}, %{y:.2f})<extra></extra>",
        }));
        return [...surfaces, ...lines];
      },
      layout: (width) => ({
        ...sceneStyle(width),
        scene: {
          xaxis: { title: { text: "x₁" }, range: domain, nticks: 5 },
          yaxis: { title: { text: "x₂" }, range: domain, nticks: 5 },
          zaxis: { title: { text: "t" }, range: [0, T_MAX], tickvals: [0, 0.5, 1, 1.5] },
          aspectmode: "manual",
          aspectratio: { x: 1, y: 1, z: 1.15 },
          // From the side and above: t reads as height and the slices show as sheets, not edges. A phone
          // gets a more distant eye, so the slices' labels fit beside the box.
          camera: { eye: scaled({ x: 1.3, y: -1.3, z: 0.95 }, width < 500 ? 1.25 : 1), center: { x: 0, y: 0, z: -0.05 } },
          annotations: SLICE_TIMES.map((t) => ({
            x: domain[1],
            y: domain[1],
            z: t,
            text: t === 0 ? "data" : t === T_MAX ? "noise" : `t = ${t}`,
            showarrow: false,
            xanchor: "left",
            font: { size: width < 500 ? 9 : 11, color: "#1d4ed8" },
          })),
        } as Partial<PlotlyModule.Scene>,
      }),
    },
    invalidation,
  );
}

/** A camera eye moved away from (factor > 1) or toward the centre. */
function scaled(eye: { x: number; y: number; z: number }, factor: number) {
  return { x: eye.x * factor, y: eye.y * factor, z: eye.z * factor };
}

const CONSISTENCY_COLOR = "#16a34a";
const DENOISER_COLOR = "#ea580c";

/** Side by side from this container width; stacked below it. */
const SIDE_BY_SIDE = 600;

/**
 * f*(x, t) (Eq. 5's target: the t = 0 end of the exact path through x) next to the denoiser E[x₀ | x_t],
 * for points x = center + u·direction on the line through the two farthest modes, both read along that
 * line. Two scenes with one camera: turning either turns both. The solves (one per time, ≤ 50 ms each) run
 * one per task, so the page never freezes.
 */
export function consistencyView3d(mixture: GaussianMixture, invalidation: Promise<unknown>): HTMLDivElement {
  const line = lineThroughFarthestModes(mixture);
  // u reaches past the farthest mode (the page's square for the ring), so both sides of each step show.
  const reach = Math.max(1.3, farthestFromCenter(mixture, line) + 0.5);
  const us = uniformTimes(-reach, reach, 60);
  const times = uniformTimes(0, T_MAX, 24);
  const profileRows = [0, 4, 8, 12, 16, 20, 24]; // t = 0, π/12, …, t_max: the curves drawn on each surface
  const scenes = [
    { id: "scene", title: "f*(x, t): where x's exact path lands", color: CONSISTENCY_COLOR, fill: "#4ade80" },
    { id: "scene2", title: "E[x₀ | x_t]: the denoiser", color: DENOISER_COLOR, fill: "#fb923c" },
  ];
  // t runs toward the viewer: t_max (noise) in front, t = 0 (data) at the back, u from left to right.
  const camera = { eye: { x: -0.55, y: -1.9, z: 0.95 }, center: { x: 0, y: 0, z: -0.1 } };
  return lazyPlot3d(
    {
      label: "The consistency function next to the denoiser, over position on a line and time",
      height: (width) => (width >= SIDE_BY_SIDE ? Math.round(Math.min(480, width * 0.62)) : 2 * squareHeight(width) - 40),
      traces: async () => {
        const rows: ConsistencySurfaces[] = [];
        for (const t of times) {
          await nextTask();
          rows.push(consistencySurfaces(mixture, line, us, [t]));
        }
        const surfaces = joinSurfaces(rows);
        return [surfaces.consistency, surfaces.denoiser].flatMap((z, i) => [
          {
            type: "surface",
            scene: scenes[i].id,
            x: surfaces.us,
            y: surfaces.times,
            z,
            colorscale: [[0, scenes[i].fill], [1, scenes[i].fill]],
            showscale: false,
            lighting: { ambient: 0.85, diffuse: 0.45, specular: 0.05 },
            contours: { x: { highlight: false }, y: { highlight: false }, z: { highlight: false } },
            hovertemplate: "x at u = %{x:.2f}, t = %{y:.2f}<br>lands at %{z:.2f} along the line<extra></extra>",
          },
          // The function of u at a few fixed t, as lines on the surface: a ramp at t = 0, a step or a plateau at t_max.
          ...profileRows.map((r) => ({
            type: "scatter3d",
            scene: scenes[i].id,
            mode: "lines",
            x: surfaces.us,
            y: surfaces.us.map(() => surfaces.times[r]),
            z: z[r],
            line: { color: "#1f2937", width: 3 },
            hoverinfo: "skip",
          })),
        ]);
      },
      layout: (width) => {
        const wide = width >= SIDE_BY_SIDE;
        const small = width < 500;
        const axes = {
          xaxis: { title: { text: "u" }, range: [-reach, reach], nticks: 5 },
          yaxis: { title: { text: "t" }, range: [T_MAX, 0], tickvals: [0, 0.5, 1, 1.5] },
          // Height: where x lands, along the line (the titles say so; an axis title here overprints the ticks).
          zaxis: { title: { text: "" }, range: [-reach, reach], nticks: 5 },
          aspectmode: "manual",
          aspectratio: { x: 1.1, y: 1, z: 0.75 },
          camera,
        };
        // Each scene gets its half: left and right when wide, top and bottom when narrow.
        const domain = (i: number) => (wide ? { x: [i / 2, (i + 1) / 2], y: [0, 0.94] } : { x: [0, 1], y: i === 0 ? [0.56, 0.97] : [0, 0.45] });
        return {
          ...sceneStyle(width),
          scene: { ...axes, domain: domain(0) } as Partial<PlotlyModule.Scene>,
          scene2: { ...axes, domain: domain(1) } as Partial<PlotlyModule.Scene>,
          annotations: scenes.map((scene, i) => ({
            text: scene.title,
            font: { color: scene.color, size: small ? 11 : 13 },
            showarrow: false,
            xref: "paper",
            yref: "paper",
            x: wide ? i / 2 + 0.25 : 0.5,
            y: wide ? 1 : i === 0 ? 1 : 0.5,
            xanchor: "center",
            yanchor: "bottom",
          })),
        };
      },
      drawn: (Plotly, plot) => {
        // One camera for both scenes: copy a turn of either to the other (skipping the copy's own echo).
        let copying = false;
        plot.on("plotly_relayout", (event) => {
          if (copying) return;
          const changed = event as Record<string, unknown>;
          const [from, to] = "scene.camera" in changed ? ["scene", "scene2"] : "scene2.camera" in changed ? ["scene2", "scene"] : [];
          if (!from) return;
          copying = true;
          Plotly.relayout(plot, { [`${to}.camera`]: changed[`${from}.camera`] } as Partial<PlotlyModule.Layout>).finally(() => (copying = false));
        });
      },
    },
    invalidation,
  );
}

/** The largest distance of a mode from the line's centre (for the line's two modes: the u at which they sit). */
function farthestFromCenter(mixture: GaussianMixture, line: { center: [number, number] }): number {
  return Math.max(...mixture.means.map((m) => Math.hypot(m[0] - line.center[0], m[1] - line.center[1])));
}
