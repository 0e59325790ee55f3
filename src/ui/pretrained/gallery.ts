/**
 * The latest samples as canvases (pixels shown as they are, enlarged without smoothing), with the time per
 * step and the backend; after two steps, the first step's estimate above the final images, so the reader
 * sees what the second step changed. Noise levels are given as EDM σ and as TrigFlow time t = arctan(σ/σd).
 */
import type { RgbaImage } from "../../components/pretrained/sampling.js";
import { element } from "./dom.js";
import { formatMs } from "../format.js";
import type { PretrainedSession, SessionState } from "./session.js";

const DISPLAY_PIXELS = 128;

function canvasOf(image: RgbaImage): HTMLCanvasElement {
  const canvas = element("canvas", { width: image.width, height: image.height, className: "pretrained-sample" });
  canvas.style.width = canvas.style.height = `${DISPLAY_PIXELS}px`;
  canvas.getContext("2d")!.putImageData(new ImageData(new Uint8ClampedArray(image.data), image.width, image.height), 0, 0);
  return canvas;
}

export function sampleGallery(session: PretrainedSession, classNames: readonly string[]): HTMLElement {
  const root = element("div", { className: "pretrained-gallery" });
  let shown: SessionState["samples"] = null;
  session.subscribe((state) => {
    if (state.samples === shown) return;
    shown = state.samples;
    if (!shown) return root.replaceChildren(element("p", { className: "muted", textContent: "Samples appear here." }));
    const { result, request, first } = shown;
    const model = state.model;
    const row = (title: string, images: RgbaImage[]) => element("figure", {}, element("div", { className: "pretrained-images" }, ...images.map(canvasOf)), element("figcaption", { textContent: title }));
    const level = (i: number) => `σ = ${result.times[i].sigma.toPrecision(4)} (t = ${result.times[i].t.toFixed(4)})`;
    const what = model?.numClasses ? `class ${request.classLabel}${model.numClasses === classNames.length ? ` (${classNames[request.classLabel!].split(",")[0]})` : ""}, ` : "";
    const rows = result.afterFirstStep
      ? [row(`After step 1, from ${level(0)}`, result.afterFirstStep), row(`After step 2: re-noised to ${level(1)} with fresh noise, then one more evaluation`, result.images)]
      : [row(`One step from ${level(0)}`, result.images)];
    const timing = `${what}seed ${request.seed}: ${request.steps} step${request.steps > 1 ? "s" : ""} for ${result.images.length} image${result.images.length > 1 ? "s" : ""} in ${formatMs(result.elapsedMs)} = ${formatMs(result.msPerStep)} per step (network evaluation and reading the pixels back) on TF.js ${result.backend}.${first && result.backend !== "cpu" ? " This was the first sample since loading: it includes compiling the GPU programs, so the next ones are faster." : ""}`;
    root.replaceChildren(...rows, element("p", { className: "pretrained-timing", textContent: timing }));
  });
  return root;
}
