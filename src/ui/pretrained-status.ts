/**
 * What is happening now on the pretrained-models page: the running task with a progress bar (bytes, rate,
 * time left, tensors) and a Stop button, then the one message the last action left (an error in words, or
 * a note), and what is loaded.
 */
import type { LoadProgress } from "../components/pretrained-loader.js";
import { element } from "./pretrained-dom.js";
import { formatBytes, formatCount, formatEta, formatRate } from "./pretrained-format.js";
import type { PretrainedSession, SessionState } from "./pretrained-session.js";

const STAGES: Record<LoadProgress["stage"], string> = {
  store: "downloading into this browser's cache",
  download: "downloading and uploading to the GPU",
  read: "reading and uploading to the GPU",
};

export function progressText(p: LoadProgress): string {
  const of = p.totalBytes ? ` of ${formatBytes(p.totalBytes)}` : "";
  const parts = [`${STAGES[p.stage]}: ${formatBytes(p.receivedBytes)}${of}`, formatRate(p.bytesPerSecond), formatEta(p.etaSeconds)];
  if (p.stage !== "store" && p.tensorCount) parts.push(`${formatCount(p.tensors)} of ${formatCount(p.tensorCount)} tensors`);
  return parts.join(" · ");
}

export function statusPanel(session: PretrainedSession): HTMLElement {
  const label = element("span");
  const bar = element("progress", { max: 1 });
  const detail = element("span", { className: "muted pretrained-progress-text" });
  const stop = element("button", { type: "button", textContent: "Stop" });
  stop.addEventListener("click", () => session.stop());
  const running = element("div", { className: "pretrained-running" }, label, " ", stop, element("div", {}, bar), detail);
  const message = element("div", { role: "status" });
  message.setAttribute("aria-live", "polite");
  const loaded = element("p", { className: "pretrained-loaded" });

  const root = element("div", { className: "pretrained-status" }, running, message, loaded);
  // How many tasks have ended, for scripts and tests that wait for one (data-finished on the panel).
  let finished = 0;
  let wasRunning = false;
  session.subscribe((state: SessionState) => {
    if (wasRunning && !state.task) root.dataset.finished = String(++finished);
    wasRunning = state.task !== null;
    running.hidden = state.task === null;
    if (state.task) {
      label.textContent = `Working: ${state.task.label}…`;
      stop.hidden = state.task.kind !== "download" && state.task.kind !== "file";
      const p = state.progress;
      if (p && p.totalBytes) bar.value = p.receivedBytes / p.totalBytes;
      else bar.removeAttribute("value"); // an indeterminate bar while the size is unknown
      detail.textContent = p ? progressText(p) : "";
    }
    message.hidden = state.message === null;
    message.className = state.message?.kind === "error" ? "notice warn pretrained-message pretrained-error" : "notice pretrained-message";
    message.textContent = state.message?.text ?? "";
    const m = state.model;
    loaded.textContent = m
      ? `Loaded: ${m.label} — ${formatCount(m.parameterCount)} parameters in ${formatCount(m.tensorCount)} tensors, ${m.width}×${m.height} images, ${m.numClasses === null ? "unconditional" : `${formatCount(m.numClasses)} classes`}, ${m.kind === "scm-lab" ? "sCM Lab UNet (TrigFlow sampler)" : "diffusers UNet2DModel (EDM consistency sampler)"}; read from ${m.origin} in ${m.loadSeconds.toFixed(1)} s; TF.js backend in the worker: ${m.backend}.`
      : "No model loaded yet.";
  });
  root.dataset.finished = "0";
  return root;
}
