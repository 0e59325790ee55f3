/**
 * What is happening on the pretrained-models page, shown where the reader acted: `taskStatus` sits right under
 * a panel's button and shows that button's running task (a progress bar with bytes, rate, time left and
 * tensors, and a Stop button) and the message its last action left (an error in words, or a note). An error
 * that appeared in one shared place further down the page could be a screen away from the button pressed.
 * `statusPanel` says what is loaded, and counts finished tasks for scripts and tests.
 */
import type { LoadProgress } from "../../components/pretrained/loader.js";
import { element } from "./dom.js";
import { ProgressBar } from "../progress-bar.js";
import { formatBytes, formatCount, formatEta, formatRate } from "../format.js";
import type { PretrainedSession, SessionState, TaskKind } from "./session.js";

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

/** The message `state` holds for a control that starts tasks of these kinds, or null. */
export function messageFor(state: SessionState, kinds: readonly (TaskKind | "worker")[]): SessionState["message"] {
  return state.message && kinds.includes(state.message.source) ? state.message : null;
}

/** The running task and the last message of the tasks of these kinds, for placing under the button that starts them. */
export function taskStatus(session: PretrainedSession, kinds: readonly (TaskKind | "worker")[]): HTMLElement {
  const label = element("span");
  const progress = new ProgressBar();
  const stop = element("button", { type: "button", textContent: "Stop" });
  stop.addEventListener("click", () => session.stop());
  const running = element("div", { className: "pretrained-running" }, label, " ", stop, progress.element);
  const message = element("div", { role: "status" });
  message.setAttribute("aria-live", "polite");
  const root = element("div", { className: "pretrained-task" }, running, message);
  session.subscribe((state: SessionState) => {
    const task = state.task && kinds.includes(state.task.kind) ? state.task : null;
    running.hidden = task === null;
    if (task) {
      label.textContent = `Working: ${task.label}…`;
      stop.hidden = task.kind !== "download" && task.kind !== "file";
      const p = state.progress;
      progress.update(p?.receivedBytes ?? 0, p?.totalBytes, p ? progressText(p) : "");
    }
    const shown = messageFor(state, kinds);
    message.hidden = shown === null;
    message.className = shown?.kind === "error" ? "notice warn pretrained-message pretrained-error" : "notice pretrained-message";
    message.textContent = shown?.text ?? "";
    root.hidden = task === null && shown === null;
  });
  return root;
}

export function statusPanel(session: PretrainedSession): HTMLElement {
  const loaded = element("p", { className: "pretrained-loaded" });
  // The worker dying is no one button's doing: its message is shown with what it took away, the loaded model.
  const root = element("div", { className: "pretrained-status" }, taskStatus(session, ["worker"]), loaded);
  // How many tasks have ended, for scripts and tests that wait for one (data-finished on the panel).
  let finished = 0;
  let wasRunning = false;
  session.subscribe((state: SessionState) => {
    if (wasRunning && !state.task) root.dataset.finished = String(++finished);
    wasRunning = state.task !== null;
    const m = state.model;
    loaded.textContent = m
      ? `Loaded: ${m.label} — ${formatCount(m.parameterCount)} parameters in ${formatCount(m.tensorCount)} tensors, ${m.width}×${m.height} images, ${m.numClasses === null ? "unconditional" : `${formatCount(m.numClasses)} classes`}, ${m.kind === "scm-lab" ? "sCM Lab UNet (TrigFlow sampler)" : "diffusers UNet2DModel (EDM consistency sampler)"}; read from ${m.origin} in ${m.loadSeconds.toFixed(1)} s; TF.js backend in the worker: ${m.backend}.`
      : "No model loaded yet.";
  });
  root.dataset.finished = "0";
  return root;
}
