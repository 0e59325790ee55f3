/**
 * The download panel of the pretrained-models page: choose a known model, read its config.json (the
 * parameter count and file size are shown before the big download), opt in to keeping a copy in the
 * browser, download. Without WebGPU the download button stays disabled and says why.
 */
import { KNOWN_MODELS, modelPageUrl, type KnownModel } from "../../components/pretrained/models.js";
import type { InspectResult } from "../../components/jobs/pretrained-jobs.js";
import { element } from "./dom.js";
import { formatBytes, formatCount } from "../format.js";
import { taskStatus } from "./status.js";
import type { PretrainedSession, SessionState } from "./session.js";
import type { WebGpuStatus } from "./webgpu.js";

/** Why the download button is disabled, or null when it may be pressed. */
export function downloadBlocker(gpu: WebGpuStatus, inspection: InspectResult | undefined, state: SessionState): string | null {
  if (!gpu.available) return `Not offered in this browser, which has no usable WebGPU: the ${KNOWN_MODELS[0].listedSize} models run only on WebGPU. A small checkpoint from your disk (below) still works.`;
  if (state.task) return "Wait for the current task to finish.";
  if (!inspection) return "Read its config.json first: the parameter count and the file size appear before anything large downloads.";
  if (inspection.backend !== "webgpu") return `The worker could not start WebGPU (TF.js runs on ${inspection.backend} there), so the large model is not loaded.`;
  if ("error" in inspection.file) return "The weights file cannot be read (see above).";
  return null;
}

function inspectionSummary(inspection: InspectResult): string {
  const parts = [`${formatCount(inspection.parameterCount)} parameters (computed from config.json) = ${formatBytes(inspection.float32Bytes)} of float32 weights.`];
  if ("error" in inspection.file) parts.push(`The weights file could not be read: ${inspection.file.error}`);
  else parts.push(`The weights file holds ${formatCount(inspection.file.tensorCount)} tensors${inspection.file.bytes ? ` in ${formatBytes(inspection.file.bytes)}` : ""}, all matching the config.`);
  if (inspection.cachedBytes !== null) parts.push(`A copy (${formatBytes(inspection.cachedBytes)}) is kept in this browser: loading it downloads nothing.`);
  return parts.join(" ");
}

export function downloadPanel(session: PretrainedSession, gpu: WebGpuStatus): HTMLElement {
  let chosen: KnownModel = KNOWN_MODELS[0];
  const radios = KNOWN_MODELS.map((model) => {
    const input = element("input", { type: "radio", name: "pretrained-model", value: model.id, checked: model === chosen });
    input.addEventListener("change", () => {
      chosen = model;
      render(session.current);
    });
    return element("label", {}, input, ` ${model.label}`);
  });
  const about = element("p", { className: "pretrained-about" });
  const readButton = element("button", { type: "button", textContent: "Read its config.json (a few kB)" });
  const summary = element("p", { className: "pretrained-summary" });
  const keep = element("input", { type: "checkbox" });
  const cacheLine = element("span", { className: "muted" });
  const clearButton = element("button", { type: "button", textContent: "Clear the kept copies" });
  const downloadButton = element("button", { type: "button", className: "pretrained-primary" });
  const blocker = element("p", { className: "pretrained-blocker muted" });

  readButton.addEventListener("click", () => void session.inspect(chosen));
  downloadButton.addEventListener("click", () => void session.download(chosen, keep.checked));
  clearButton.addEventListener("click", () => void session.clearCache());

  const render = (state: SessionState) => {
    const link = element("a", { href: modelPageUrl(chosen), target: "_blank", rel: "noopener noreferrer", textContent: chosen.repository });
    about.replaceChildren(`Trained by ${chosen.training}. Files: `, link, ` at revision ${chosen.revision.slice(0, 7)}; the weights file is listed at ${chosen.listedSize}.`);
    const inspection = state.inspections[chosen.id];
    summary.textContent = inspection ? inspectionSummary(inspection) : "";
    readButton.disabled = state.task !== null;
    const reason = downloadBlocker(gpu, inspection, state);
    downloadButton.disabled = reason !== null;
    const size = inspection && !("error" in inspection.file) && inspection.file.bytes ? formatBytes(inspection.file.bytes) : chosen.listedSize;
    downloadButton.textContent = inspection?.cachedBytes != null ? "Load the copy kept in this browser" : `Download ${size} and load`;
    blocker.textContent = reason ?? "";
    const cache = state.cache;
    cacheLine.textContent = !cache ? "" : !cache.available ? `(${cache.reason})` : cache.files === 0 ? "No copies kept in this browser." : `Kept in this browser: ${cache.files} file${cache.files > 1 ? "s" : ""}, ${formatBytes(cache.bytes)}.`;
    keep.disabled = cache !== null && !cache.available;
    clearButton.hidden = !cache || !cache.available || cache.files === 0;
    clearButton.disabled = state.task?.kind === "download";
  };
  session.subscribe(render);
  void session.refreshCache();

  return element(
    "div",
    { className: "card pretrained-panel" },
    element("div", { className: "pretrained-choices" }, ...radios),
    about,
    element("div", { className: "pretrained-row" }, readButton),
    taskStatus(session, ["inspect"]),
    summary,
    element("div", { className: "pretrained-row" }, element("label", {}, keep, " Keep a copy in this browser (Cache Storage), so the next visit downloads nothing")),
    element("div", { className: "pretrained-row" }, cacheLine, " ", clearButton),
    element("div", { className: "pretrained-row" }, downloadButton),
    taskStatus(session, ["download"]),
    blocker,
  );
}
