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

/** Import plotly once per page, on first need. A bare name: Framework bundles it from node_modules (no CDN). */
function loadPlotly(): Promise<Plotly> {
  plotly ??= import("plotly.js-dist-min").then((module) => module.default);
  return plotly;
}

/** The plot's height for a container width: near-square, smaller on a phone, never taller than a laptop screen wants. */
export function plotHeight(width: number): number {
  return Math.round(Math.min(560, Math.max(300, width * 0.92)));
}

/**
 * A placeholder that turns into a plotly figure when it comes within 250 px of the screen. `traces` (run once,
 * after plotly has loaded) may take several tasks; `layout` is called again whenever the container's width
 * changes. Ends (purges the plot, stops observing) when `invalidation` resolves, as Framework's cells do.
 */
export function lazyPlot3d(
  { label, traces, layout }: { label: string; traces: () => Promise<object[]>; layout: (width: number) => Partial<PlotlyModule.Layout> },
  invalidation: Promise<unknown>,
): HTMLDivElement {
  const root = document.createElement("div");
  root.className = "plot-3d";
  root.setAttribute("role", "figure");
  root.setAttribute("aria-label", label);
  const placeholder = document.createElement("p");
  placeholder.className = "small muted";
  placeholder.textContent = "Loading the 3-D view…";
  placeholder.style.cssText = "margin: 0; display: flex; align-items: center; justify-content: center;";
  root.append(placeholder);
  // Keep the plot's size before it exists, so nothing below jumps when it appears.
  const sizePlaceholder = () => (placeholder.style.height = `${plotHeight(root.clientWidth || 640)}px`);
  requestAnimationFrame(sizePlaceholder);

  let ended = false;
  let drawnWidth = 0;
  const config: Partial<PlotlyModule.Config> = { displaylogo: false, responsive: false, scrollZoom: false, modeBarButtonsToRemove: ["resetCameraLastSave3d"] };
  const draw = async () => {
    const Plotly = await loadPlotly();
    await nextTask(); // evaluating plotly was one task; computing and drawing go in the next ones
    const data = await traces();
    if (ended) return;
    await nextTask();
    drawnWidth = root.clientWidth;
    placeholder.remove();
    await Plotly.newPlot(root, data as PlotlyModule.Data[], { ...layout(drawnWidth), width: drawnWidth, height: plotHeight(drawnWidth) }, config);
    if (ended) return Plotly.purge(root);
    // Follow the page's width. uirevision keeps the reader's rotation through the redraw.
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
      const Plotly = await loadPlotly();
      await Plotly.relayout(root, { ...layout(width), width, height: plotHeight(width) });
    });
  });
  const near = new IntersectionObserver(
    (entries) => {
      if (!entries.some((e) => e.isIntersecting)) return;
      near.disconnect();
      draw().catch((error: Error) => {
        placeholder.textContent = `The 3-D view could not be drawn: ${error.message}`;
        if (!placeholder.isConnected) root.append(placeholder);
      });
    },
    { rootMargin: "250px 0px" },
  );
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
          // From the side and a little above: t reads as height and the slices stay visible as sheets.
          camera: { eye: { x: 1.45, y: -1.45, z: 0.6 }, center: { x: 0, y: 0, z: -0.08 } },
          annotations: SLICE_TIMES.map((t) => ({
            x: domain[1],
            y: domain[1],
            z: t,
            text: t === 0 ? "t = 0, data" : t === T_MAX ? "t ≈ π/2, noise" : `t = ${t}`,
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

const CONSISTENCY_COLOR = "#16a34a";
const DENOISER_COLOR = "#ea580c";

/**
 * f*(x, t) (Eq. 5's target: the t = 0 end of the exact path through x) and the denoiser E[x₀ | x_t] over
 * points x = center + u·direction of the line through the two farthest modes, both read along that line.
 * The solves (one per time, ≤ 50 ms each) run one per task, so the page never freezes.
 */
export function consistencyView3d(mixture: GaussianMixture, invalidation: Promise<unknown>): HTMLDivElement {
  const line = lineThroughFarthestModes(mixture);
  // u reaches past the farthest mode (the page's square for the ring), so both sides of each step show.
  const reach = Math.max(1.3, farthestFromCenter(mixture, line) + 0.5);
  const us = uniformTimes(-reach, reach, 60);
  const times = uniformTimes(0, T_MAX, 24);
  return lazyPlot3d(
    {
      label: "The consistency function and the denoiser over position and time",
      traces: async () => {
        const rows: ConsistencySurfaces[] = [];
        for (const t of times) {
          await nextTask();
          rows.push(consistencySurfaces(mixture, line, us, [t]));
        }
        const surfaces = joinSurfaces(rows);
        const surface = (z: number[][], color: string, name: string, opacity: number) => ({
          type: "surface",
          name,
          x: surfaces.us,
          y: surfaces.times,
          z,
          colorscale: [[0, color], [1, color]],
          showscale: false,
          opacity,
          // Lines of constant t: each is the function of u at one noise level.
          contours: { y: { show: true, start: 0, end: T_MAX, size: T_MAX / 6, color: "#1f2937", width: 2 }, x: { highlight: false }, z: { highlight: false } },
          lighting: { ambient: 0.75, diffuse: 0.5, specular: 0.05 },
          hovertemplate: `${name}<br>u = %{x:.2f}, t = %{y:.2f}<br>lands at %{z:.2f}<extra></extra>`,
        });
        return [
          surface(surfaces.consistency, CONSISTENCY_COLOR, "f*(x, t)", 0.95),
          surface(surfaces.denoiser, DENOISER_COLOR, "E[x₀ | x_t]", 0.7),
        ];
      },
      layout: (width) => ({
        ...sceneStyle(width),
        scene: {
          xaxis: { title: { text: "u, where x sits on the line" }, range: [-reach, reach], nticks: 5 },
          yaxis: { title: { text: "t" }, range: [0, T_MAX], tickvals: [0, 0.5, 1, 1.5] },
          zaxis: { title: { text: "where it lands" }, range: [-reach, reach], nticks: 5 },
          aspectmode: "manual",
          aspectratio: { x: 1.1, y: 1, z: 0.8 },
          // From the noisy end (large t) and a little above: the front edge shows f*'s step next to the
          // denoiser's flat line, and the surfaces recede to t = 0, where both are the identity.
          camera: { eye: { x: 0.9, y: 1.75, z: 0.65 } },
        } as Partial<PlotlyModule.Scene>,
        annotations: [
          legendEntry("■ f*(x, t): consistency function", CONSISTENCY_COLOR, 0),
          legendEntry("■ E[x₀ | x_t]: denoiser", DENOISER_COLOR, 1),
        ],
      }),
    },
    invalidation,
  );
}

/** The largest distance of a mode from the line's centre (for the line's two modes: the u at which they sit). */
function farthestFromCenter(mixture: GaussianMixture, line: { center: [number, number] }): number {
  return Math.max(...mixture.means.map((m) => Math.hypot(m[0] - line.center[0], m[1] - line.center[1])));
}

/** A coloured line of text at the top left, as a legend for the surfaces (plotly lists no surface in its legend). */
function legendEntry(text: string, color: string, row: number): Partial<PlotlyModule.Annotations> {
  return { text, font: { color, size: 12 }, showarrow: false, xref: "paper", yref: "paper", x: 0, y: 1, yshift: 20 - 16 * row, xanchor: "left", yanchor: "top" };
}
