/**
 * The backend notice every TF.js page shows: which backend runs the math, and, after a fallback, why.
 */
import { BACKEND_LABELS, type BackendReport } from "../components/backend.js";

export function backendNotice(report: BackendReport): HTMLElement {
  const element = document.createElement("div");
  const fellBack = report.active !== "webgpu";
  element.className = fellBack ? "notice warn" : "notice";
  const strong = document.createElement("strong");
  strong.textContent = `TF.js backend: ${BACKEND_LABELS[report.active]}`;
  element.append(strong);
  if (fellBack) {
    const list = document.createElement("ul");
    for (const attempt of report.attempts.filter((a) => !a.ok)) {
      const item = document.createElement("li");
      item.textContent = `${attempt.name}: ${attempt.reason}`;
      list.append(item);
    }
    const note = document.createElement("div");
    note.textContent =
      report.active === "webgl"
        ? "WebGPU is unavailable, so TF.js uses WebGL: everything works, training is slower."
        : "No GPU backend is available, so TF.js runs on the CPU: small demos work, image training will be very slow.";
    element.append(note, list);
  }
  return element;
}
