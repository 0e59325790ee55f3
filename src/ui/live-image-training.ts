/**
 * The CIFAR-10 training job (components/image-jobs.ts) live in a Web Worker, as Framework cells want it: an
 * async generator of states for the charts and sample grids, and a row of buttons — pause/resume, stop, save
 * now, download the checkpoint or the model. Files the worker sends are handed to the browser as downloads.
 * The worker is terminated when the cell is invalidated; the run's last autosave stays in IndexedDB.
 */
import type { ImageTrainParams, ImageTrainProgress, ImageTrainResult, ImageTrainPhase } from "../components/image-jobs.js";
import type { ImageSamples } from "../components/image-run.js";
import type { ClassFileProgress } from "../components/class-file-streams.js";
import { startJobInWorker } from "./worker-client.js";
import { downloadBytes } from "./download.js";
import { pauseStopButtons } from "./job-controls.js";

export interface StepPoint {
  phase: ImageTrainPhase;
  iteration: number;
  loss: number;
  gradientNorm: number;
  imagesPerSecond: number;
  stepMs: number;
}

export interface ImageTrainingState {
  status: string;
  running: boolean;
  failed: boolean;
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
  };

  async function* states(): AsyncGenerator<ImageTrainingState> {
    const state: ImageTrainingState = {
      status: "starting the worker…", running: true, failed: false, phase: null, objective: null, parameters: null, backend: null,
      data: null, points: [], memory: null, samples: null, saved: null, note: null,
    };
    yield { ...state };
    for await (const event of job.events) {
      if ("progress" in event) {
        const p = event.progress as ImageTrainProgress;
        switch (p.kind) {
          case "data":
            state.data = p.data;
            if (state.points.length === 0) state.status = `downloading CIFAR-10: ${MB(p.data.receivedBytes)} of ${MB(p.data.totalBytes)} — training starts once every class has a few images`;
            break;
          case "phase":
            Object.assign(state, { phase: p.phase, objective: p.objective, parameters: p.parameters, backend: p.backend });
            state.status = `${p.phase === "teacher" ? "training the teacher (TrigFlow diffusion)" : `training the consistency model (${p.objective === "sct" ? "sCT" : "sCD"})`} from step ${p.startIteration}`;
            break;
          case "step":
            state.data = p.data;
            state.memory = p.memory;
            state.points.push({ phase: p.phase, iteration: p.iteration, loss: p.loss, gradientNorm: p.gradientNorm, imagesPerSecond: p.imagesPerSecond, stepMs: p.stepMs });
            state.status = `${p.phase === "teacher" ? "teacher" : state.objective === "sct" ? "sCT" : "sCD"} step ${p.iteration}/${p.steps} · loss ${p.loss.toPrecision(3)} · ${p.stepMs.toFixed(0)} ms/step · ${p.imagesPerSecond.toPrecision(2)} images/s`;
            if (isPaused()) state.status = `paused at ${state.status}`;
            break;
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
      } else if ("result" in event) {
        const r = event.result as ImageTrainResult;
        state.status = r.stopped ? `stopped at step ${r.iteration} of the ${r.phase} phase${state.saved ? ` (saved in this browser: resume it after a reload)` : ""}` : `done: ${r.iteration} steps of the ${r.phase} phase`;
        state.running = false;
        finish();
      } else {
        state.status = `training stopped: ${event.error}`;
        state.running = false;
        state.failed = true;
        finish();
      }
      yield { ...state, points: state.points.slice() };
    }
  }
  return { states: states(), controls };
}
