/**
 * The CIFAR-10 training job (components/image-jobs.ts) live in a Web Worker, as Framework cells want it: an
 * async generator of states for the charts and sample grids, and a row of buttons — pause/resume, stop, save
 * now, download the checkpoint or the model. Files the worker sends are handed to the browser as downloads.
 * The worker is terminated when the cell is invalidated; the run's last autosave stays in IndexedDB.
 */
import type { ImageTrainParams, ImageTrainPhase } from "../../components/jobs/image-jobs.js";
import type { ImageSamples } from "../../components/image/image-run.js";
import type { ClassFileProgress } from "../../components/image/class-file-streams.js";
import { startJobInWorker } from "../worker-client.js";
import { downloadBytes } from "../download.js";
import { ProgressBar } from "../progress-bar.js";
import { liveJobStates, pauseStopButtons, type LiveJobState } from "../live-job.js";

export interface StepPoint {
  phase: ImageTrainPhase;
  iteration: number;
  loss: number;
  gradientNorm: number;
  imagesPerSecond: number;
  stepMs: number;
}

export interface ImageTrainingState extends LiveJobState {
  phase: ImageTrainPhase | null;
  objective: string | null;
  parameters: number | null;
  backend: string | null;
  data: ClassFileProgress | null;
  points: StepPoint[];
  memory: { tensors: number; bytes: number; gpuBytes: number | null } | null;
  samples: (ImageSamples & { phase: ImageTrainPhase }) | null;
  saved: { iteration: number; bytes: number } | null;
  note: string | null;
}

const MB = (bytes: number) => `${(bytes / 1e6).toFixed(1)} MB`;

/**
 * An axis tick as a reader reads it: plain decimals from 0.001 to 9999 (float noise rounded away),
 * 1e-4 / 2e5 style beyond. Plot's log axes default to SI prefixes, which print 0.001 as "1m".
 */
export function formatTick(x: number): string {
  if (x === 0 || !Number.isFinite(x)) return String(x);
  const abs = Math.abs(x);
  if (abs >= 1e-3 && abs < 1e4) return String(Number(x.toPrecision(6)));
  return Number(x.toPrecision(6)).toExponential().replace("e+", "e");
}

/** m·10^e rounded to the nearest double that prints cleanly (2·10^-3 → 0.002, not 0.0020000000000000005). */
const decade = (m: number, e: number) => Number((m * 10 ** e).toPrecision(12));

/**
 * Ticks for a log axis over [min, max], explicit so none are labelled in SI and none overprint: powers of ten
 * when the data span at least three of them, else 1-2-5 steps, else 1…9 steps, else (less than a decade
 * wide) evenly spaced ones; never more than `most`, thinned evenly.
 */
export function logTicks(min: number, max: number, most = 8): number[] {
  if (!(min > 0) || !(max >= min) || !Number.isFinite(max)) return [];
  if (min === max) return [min];
  const lo = Math.floor(Math.log10(min));
  const hi = Math.ceil(Math.log10(max));
  const inside = (t: number) => t >= min * (1 - 1e-9) && t <= max * (1 + 1e-9);
  const thin = (ticks: number[]) => {
    const every = Math.ceil(ticks.length / most);
    return ticks.filter((_, i) => i % every === 0);
  };
  for (const mantissas of [[1], [1, 2, 5], [1, 2, 3, 4, 5, 6, 7, 8, 9]]) {
    const ticks: number[] = [];
    for (let e = lo; e <= hi; e++) for (const m of mantissas) if (inside(decade(m, e))) ticks.push(decade(m, e));
    if (ticks.length >= 3) return thin(ticks);
  }
  // Narrower than a decade: evenly spaced 1-2-5 steps, about four of them.
  const raw = (max - min) / 4;
  const power = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * power).find((s) => s >= raw)!;
  const ticks: number[] = [];
  for (let t = Math.ceil(min / step) * step; t <= max * (1 + 1e-9); t += step) ticks.push(Number(t.toPrecision(12)));
  return thin(ticks);
}

export function liveImageTraining(workerUrl: string, params: ImageTrainParams, invalidation: Promise<unknown>): { states: AsyncGenerator<ImageTrainingState>; controls: HTMLElement } {
  const job = startJobInWorker(workerUrl, "imageTrain", params, invalidation);
  const controls = document.createElement("div");
  controls.className = "training-controls";
  const button = (label: string, title: string) => {
    const b = Object.assign(document.createElement("button"), { textContent: label, title });
    controls.append(b, " ");
    return b;
  };
  const { pause, stop, isPaused } = pauseStopButtons(job, controls, () => finish());
  pause.title = "suspend training between two steps";
  stop.title = "end the run; it is saved in this browser first";
  const save = button("Save now", "save the run in this browser (IndexedDB) so a reload can resume it");
  const exportCheckpoint = button("Download checkpoint", "the whole run (weights, EMA, optimiser, teacher) as a safetensors file that resumes it");
  const exportModel = button("Download model", "the EMA weights as an sCM Lab model file (samples on the pretrained page; a teacher for a new run)");
  save.disabled = !params.autosave;
  save.onclick = () => job.command("save");
  exportCheckpoint.onclick = () => job.command("export-checkpoint");
  exportModel.onclick = () => job.command("export-model");
  const finish = () => {
    for (const b of [pause, stop, save, exportCheckpoint, exportModel]) b.disabled = true;
    // Once the run has ended its worker is gone; the run's last save, with its own download buttons, is in the
    // start panel above (image-training-start.ts). Disabled copies of them here read as a second row of the same.
    for (const b of [save, exportCheckpoint, exportModel]) b.hidden = true;
  };

  const state: ImageTrainingState = {
    status: "starting the worker…", running: true, failed: false, phase: null, objective: null, parameters: null, backend: null,
    data: null, points: [], memory: null, samples: null, saved: null, note: null,
  };
  const states = liveJobStates(job, state, {
    progress(p) {
      switch (p.kind) {
        case "data":
          state.data = p.data;
          if (state.points.length === 0) state.status = `downloading CIFAR-10: ${MB(p.data.receivedBytes)} of ${MB(p.data.totalBytes)} — training starts once every class has a few images`;
          break;
        case "phase":
          Object.assign(state, { phase: p.phase, objective: p.objective, parameters: p.parameters, backend: p.backend });
          state.status = `${p.phase === "teacher" ? "training the teacher (TrigFlow diffusion)" : `training the consistency model (${p.objective === "sct" ? "sCT" : "sCD"})`} from step ${p.startIteration}`;
          break;
        case "steps": {
          state.data = p.data;
          state.memory = p.memory;
          for (const r of p.reports) state.points.push({ phase: p.phase, iteration: r.iteration, loss: r.loss, gradientNorm: r.gradientNorm, imagesPerSecond: p.imagesPerSecond, stepMs: r.stepMs });
          const last = p.reports[p.reports.length - 1];
          state.status = `${p.phase === "teacher" ? "teacher" : state.objective === "sct" ? "sCT" : "sCD"} step ${last.iteration}/${p.phaseSteps} · loss ${formatTick(Number(last.loss.toPrecision(3)))} · ${last.stepMs.toFixed(0)} ms/step · ${formatTick(Number(p.imagesPerSecond.toPrecision(2)))} images/s`;
          if (isPaused()) state.status = `paused at ${state.status}`;
          break;
        }
        case "samples":
          state.samples = { ...p.samples, phase: p.phase };
          break;
        case "saved":
          state.saved = { iteration: p.iteration, bytes: p.bytes };
          break;
        case "saveFailed":
          state.note = p.message;
          break;
        case "file":
          downloadBytes(p.fileName, p.bytes);
          state.note = `downloaded ${p.fileName} (${MB(p.bytes.length)})`;
          break;
      }
    },
    result: (r) =>
      r.stopped ? `stopped at step ${r.iteration} of the ${r.phase} phase${state.saved ? ` (saved in this browser: resume it after a reload)` : ""}` : `done: ${r.iteration} step${r.iteration === 1 ? "" : "s"} of the ${r.phase} phase`,
    finish,
    snapshot: (s) => ({ ...s, points: s.points.slice() }),
  });
  return { states, controls };
}

/**
 * The run's status line (data-run="cifar10", which browser tests read) and, under it, where it runs: backend,
 * size, tensors and memory, the last save and the last note.
 */
export function trainingStatus(state: ImageTrainingState): HTMLElement {
  const box = document.createElement("div");
  box.className = state.failed ? "notice warn" : "notice";
  box.dataset.run = "cifar10";
  const status = document.createElement("strong");
  status.textContent = state.status;
  box.append(status);
  if (state.backend) {
    const memory = state.memory;
    const details = [
      `worker backend: ${state.backend}`,
      state.parameters !== null ? `${(state.parameters / 1e6).toFixed(2)} M parameters` : null,
      memory ? `${memory.tensors} tensors, ${(memory.bytes / 1e6).toFixed(0)} MB${memory.gpuBytes != null ? `, ${(memory.gpuBytes / 1e6).toFixed(0)} MB on the GPU` : ""}` : null,
      state.saved ? `saved at step ${state.saved.iteration}` : null,
      state.note,
    ];
    const line = Object.assign(document.createElement("span"), { className: "muted", textContent: details.filter((d) => d).join(" · ") });
    box.append(document.createElement("br"), line);
  }
  return box;
}

/** The CIFAR-10 download while it lasts: bytes so far and images per class. */
export function dataProgress(data: ClassFileProgress): HTMLElement {
  return new ProgressBar("Data:").update(data.receivedBytes, data.totalBytes, `${MB(data.receivedBytes)} / ${MB(data.totalBytes)} (${data.perClass.join(" + ")} images)`).element;
}
