/**
 * How a CIFAR-10 run starts, as one Observable view: "Train" (a new run from the form), "Resume" (the run
 * saved in this browser), or a file the reader chooses — a training checkpoint resumes, an sCM Lab model
 * becomes the teacher. The saved run can also be downloaded (whole, or its EMA model) or deleted. The view's
 * value changes only on a click, so editing the form never restarts a run.
 */
import { checkpointSummary, deleteCheckpoint, loadCheckpoint, type CheckpointSummary } from "../../components/image/checkpoint-store.js";
import { readTrainingFile, writeModel } from "../../components/image/image-checkpoint.js";
import type { UNetConfig } from "../../components/nn/unet-config.js";
import { downloadBytes } from "../download.js";
import { describeError } from "../../components/checkpoint/errors.js";

export type StartRequest =
  | { kind: "new"; teacher?: { bytes: Uint8Array; network: UNetConfig; name: string } }
  | { kind: "resume" }
  | { kind: "resumeFile"; bytes: Uint8Array; name: string };

export interface StartPanel extends HTMLElement {
  value: StartRequest | null;
  /** Read the saved run's summary again (after a run saved or ended). */
  refresh(): Promise<void>;
  /**
   * Whether a run is live on the page. While it is, its own row of buttons (live-image-training.ts) saves and
   * downloads it, so the saved run's summary here shows no buttons: one row of download buttons, not two.
   */
  setLive(live: boolean): void;
}

export interface StartOptions {
  /** Why the form cannot start a new run (e.g. no class chosen), in a sentence; null when it can. */
  problem?: () => string | null;
}

export function imageTrainingStart(key: string, { problem = () => null }: StartOptions = {}): StartPanel {
  const panel = document.createElement("div") as unknown as StartPanel;
  panel.className = "training-start";
  panel.value = null;
  const emit = (request: StartRequest) => {
    panel.value = request;
    panel.dispatchEvent(new Event("input", { bubbles: true }));
  };

  const train = Object.assign(document.createElement("button"), { textContent: "Train" });
  // What stops a new run is said right beside the button that was pressed, not as an error cell further down.
  const trainNote = document.createElement("span");
  trainNote.className = "training-problem";
  trainNote.setAttribute("role", "alert");
  const startNew = (request: StartRequest & { kind: "new" }) => {
    const reason = problem();
    trainNote.textContent = reason ?? "";
    if (!reason) emit(request);
  };
  train.onclick = () => startNew({ kind: "new" });
  const saved = document.createElement("div");
  saved.className = "saved-run";
  const fileRow = document.createElement("label");
  const input = Object.assign(document.createElement("input"), { type: "file", accept: ".safetensors" });
  const fileNote = document.createElement("span");
  fileNote.className = "muted";
  fileRow.append("Or start from a file: ", input, " ", fileNote);
  input.onchange = async () => {
    const file = input.files?.[0];
    if (!file) return;
    fileNote.className = "muted";
    try {
      const bytes = new Uint8Array(await file.arrayBuffer());
      const read = readTrainingFile(bytes);
      if (read.kind === "training") {
        fileNote.textContent = `${file.name}: a training checkpoint at step ${read.checkpoint.state.iteration} (${read.checkpoint.phase} phase) — resuming it.`;
        emit({ kind: "resumeFile", bytes, name: file.name });
      } else {
        fileNote.textContent = `${file.name}: a model (${read.config.baseChannels}-channel UNet) — it will be the teacher of the next run; press Train.`;
        train.onclick = () => startNew({ kind: "new", teacher: { bytes, network: read.config, name: file.name } });
        train.textContent = `Train from ${file.name}`;
      }
    } catch (error) {
      fileNote.className = "training-problem";
      fileNote.textContent = `${file.name} cannot be used: ${describeError(error)}.`;
    }
  };

  let live = false;
  let shown: [CheckpointSummary | null, string | undefined] = [null, undefined];
  const render = (summary: CheckpointSummary | null, unavailable?: string) => {
    shown = [summary, unavailable];
    saved.replaceChildren();
    if (unavailable) return saved.append(unavailable);
    if (!summary) return saved.append(live ? "The run below is saved in this browser every 200 steps and when it stops." : "No run is saved in this browser yet.");
    const when = new Date(summary.savedAt).toLocaleString();
    const description = `${summary.label}, step ${summary.iteration} of ${summary.steps} (${summary.phase} phase), ${(summary.bytes / 1e6).toFixed(1)} MB, ${when}.`;
    if (live) return saved.append(`Saved in this browser: ${description} The buttons under the run save it now or download it as it is.`);
    const resume = Object.assign(document.createElement("button"), { textContent: "Resume" });
    resume.onclick = () => emit({ kind: "resume" });
    const whole = Object.assign(document.createElement("button"), { textContent: "Download checkpoint" });
    whole.onclick = async () => {
      const bytes = await loadCheckpoint(key);
      if (bytes) downloadBytes(`scm-lab-${summary.phase}-step${summary.iteration}.safetensors`, bytes);
    };
    const model = Object.assign(document.createElement("button"), { textContent: "Download model" });
    model.onclick = async () => {
      const bytes = await loadCheckpoint(key);
      const read = bytes && readTrainingFile(bytes);
      if (read?.kind !== "training") return;
      const plan = read.checkpoint.phase === "teacher" ? read.checkpoint.teacher : read.checkpoint.student;
      downloadBytes(`scm-lab-${plan!.config.objective}-ema-step${summary.iteration}.safetensors`, writeModel(plan!.config.network, read.checkpoint.state.ema));
    };
    const remove = Object.assign(document.createElement("button"), { textContent: "Delete" });
    remove.onclick = async () => {
      await deleteCheckpoint(key);
      await panel.refresh();
    };
    saved.append(`Saved in this browser: ${description} `, resume, " ", whole, " ", model, " ", remove);
  };
  panel.setLive = (isLive: boolean) => {
    if (isLive === live) return;
    live = isLive;
    render(...shown);
  };
  panel.refresh = async () => {
    try {
      render(await checkpointSummary(key));
    } catch (error) {
      render(null, `Saved runs are unavailable here: ${describeError(error)}`);
    }
  };
  const trainRow = document.createElement("div");
  trainRow.className = "training-start-row";
  trainRow.append(train, " ", trainNote);
  panel.append(trainRow, saved, fileRow);
  void panel.refresh();
  return panel;
}
