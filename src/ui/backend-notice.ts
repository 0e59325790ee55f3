/**
 * The backend notice every TF.js page shows: which device runs the math (the jobs worker's backend, since the
 * worker does the work), and, after a fallback, why. A software WebGPU/WebGL or the CPU gets a warning style;
 * WebAssembly does not: it is the first choice on the 2-D pages, where it is the fastest.
 */
import type { BackendReport } from "../components/runtime/backend.js";
import { pageBackendReport } from "./worker-client.js";
import { describeError } from "../components/checkpoint/errors.js";

export function backendNotice(report: BackendReport): HTMLElement {
  const element = document.createElement("div");
  element.className = report.device === "gpu" || report.active === "wasm" ? "notice" : "notice warn";
  element.dataset.backend = report.active;
  element.dataset.device = report.device;
  const strong = document.createElement("strong");
  strong.textContent = `TF.js backend: ${report.label}`;
  element.append(strong);
  const notes: string[] = [];
  if (report.requested) notes.push(`Chosen with ?backend=${report.requested} in the address.`);
  if (report.ignoredRequest !== undefined) notes.push(`?backend=${report.ignoredRequest} is not a backend (use webgpu, webgl, wasm or cpu), so it was ignored.`);
  if (report.device === "software") notes.push("No GPU is in use: the math runs on the CPU through a software emulation, so training is slow.");
  if (report.active === "wasm") notes.push("The small 2-D networks on this page train fastest with TF.js's WebAssembly kernels, whose steps are bound by per-kernel overhead rather than arithmetic (2–3.4× faster than its JavaScript kernels, measured).");
  else if (report.device === "cpu") notes.push("No GPU backend is in use, so TF.js runs on the CPU: small demos work, image training is very slow.");
  for (const text of notes) {
    const note = document.createElement("div");
    note.textContent = text;
    element.append(note);
  }
  const rejected = report.attempts.filter((a) => !a.ok);
  if (rejected.length > 0) {
    const list = document.createElement("ul");
    for (const attempt of rejected) {
      const item = document.createElement("li");
      item.textContent = `${attempt.name}: ${attempt.reason}`;
      list.append(item);
    }
    element.append(list);
  }
  return element;
}

/** The notice for the backend the page's workers run on (worker-client.ts chooses it once); "checking…" until known. */
export async function* workerBackendNotice(workerUrl: string): AsyncGenerator<HTMLElement> {
  const waiting = document.createElement("div");
  waiting.className = "notice";
  waiting.textContent = "Checking which TF.js backend works in this browser…";
  yield waiting;
  try {
    yield backendNotice(await pageBackendReport(workerUrl));
  } catch (error) {
    const failed = document.createElement("div");
    failed.className = "notice warn";
    failed.textContent = `The background worker could not start TF.js: ${describeError(error)}`;
    yield failed;
  }
}
