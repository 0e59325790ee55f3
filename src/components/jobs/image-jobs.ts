/**
 * The live CIFAR-10 training job (registered in registry.ts): stream the chosen classes, train the
 * teacher (TrigFlow diffusion), then sCT or sCD from the teacher's EMA — or sCT from scratch, or from a teacher
 * the reader loaded — reporting step metrics, sample grids, and autosaves to IndexedDB. Commands between
 * steps (even while paused): "save" (autosave now), "export-checkpoint" and "export-model" (send the file to
 * the page for download).
 */
import * as tf from "@tensorflow/tfjs";
import { ImageDataset, CIFAR10_SHAPE } from "../image/image-dataset.js";
import { ImageRun, type ImageSamples } from "../image/image-run.js";
import { SmallUNet } from "../nn/unet.js";
import type { NamedArray } from "../checkpoint/safetensors.js";
import { readTrainingFile, teacherOf, writeModel, writeTrainingCheckpoint, type RunPlan, type TrainingCheckpoint } from "../image/image-checkpoint.js";
import { ClassFileStreams, fetchCifar10Meta, globalFetch, type ClassFileProgress, type Fetch } from "../image/class-file-streams.js";
import { loadCheckpoint, saveCheckpoint, type CheckpointSummary } from "../image/checkpoint-store.js";
import { NonFiniteLossError, type StepReport } from "../training/trainer.js";
import { READ_BACK_TARGET_MS, stepsPerReadBack } from "../training/read-back-interval.js";
import { GpuMemoryError, openGpuMemoryScope } from "../runtime/gpu-memory.js";
import { CIFAR10_CLASSES } from "../image/cifar10/dataset.js";
import type { JobControl } from "./job-control.js";
import { describeError } from "../checkpoint/errors.js";

export interface ImageTrainParams {
  /** absolute URLs of meta.json and of class-0.bin … class-9.bin */
  data: { meta: string; classFiles: string[] };
  classes: number[];
  /** the teacher phase (null: sCT from scratch, or a teacher from `teacherModel`) */
  teacher: RunPlan | null;
  /** the consistency phase (null: train the teacher only) */
  student: RunPlan | null;
  /** an sCM Lab model file (EMA weights + config) used as the teacher instead of training one */
  teacherModel?: Uint8Array;
  /** continue a saved run: the IndexedDB autosave under `key`, or a training checkpoint file's bytes */
  resume?: { key: string } | { bytes: Uint8Array };
  sampleEvery: number;
  sampleCount: number;
  /** Heun steps of the teacher's ODE for the comparison row */
  odeSteps: number;
  /** autosave to IndexedDB every `everySteps` steps, at phase ends and on stop; null: never */
  autosave: { key: string; everySteps: number } | null;
  /** images of each class that must have arrived before training starts */
  minImagesPerClass?: number;
  /** how often fast steps are read back, in ms (default READ_BACK_TARGET_MS; 0: after every step) */
  readBackMs?: number;
}

export type ImageTrainPhase = "teacher" | "student";

export type ImageTrainProgress =
  | { kind: "data"; data: ClassFileProgress; milestone?: boolean }
  | { kind: "phase"; phase: ImageTrainPhase; objective: string; parameters: number; steps: number; startIteration: number; backend: string; milestone: true }
  | {
      /** steps whose metrics were just read back (several at once when steps are fast: read-back-interval.ts) */
      kind: "steps";
      phase: ImageTrainPhase;
      /** oldest first; stepMs is each step's share of the wall time since the first of them was queued */
      reports: (StepReport & { stepMs: number })[];
      /** the phase's length in steps */
      phaseSteps: number;
      /** images per second over the last 20 steps */
      imagesPerSecond: number;
      memory: { tensors: number; bytes: number; gpuBytes: number | null };
      data: ClassFileProgress;
      /** always posted (not thinned to one per 100 ms): dropping one would drop its steps from the charts; reads come a few times a second (read-back-interval.ts) */
      milestone: true;
    }
  | { kind: "samples"; phase: ImageTrainPhase; samples: ImageSamples; milestone: true }
  | { kind: "saved"; phase: ImageTrainPhase; iteration: number; bytes: number; milestone: true }
  | { kind: "saveFailed"; message: string; milestone: true }
  | { kind: "file"; what: "checkpoint" | "model"; fileName: string; bytes: Uint8Array; milestone: true };

export interface ImageTrainResult {
  phase: ImageTrainPhase;
  iteration: number;
  stopped: boolean;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Errors the reader can act on get advice; the run's last autosave stays in IndexedDB either way. */
function explain(error: unknown, saved: number | null): Error {
  const resume = saved !== null ? ` The autosave from step ${saved} can be resumed.` : "";
  if (error instanceof NonFiniteLossError) return new Error(`${error.message}. Try a lower learning rate or keep tangent normalisation on.${resume}`);
  const message = describeError(error);
  if (error instanceof GpuMemoryError || /out of memory|OOM|allocat|device (was )?lost/i.test(message)) {
    return new Error(`${message}. Try a smaller preset or batch, or close other GPU-heavy tabs.${resume}`);
  }
  return new Error(`${message}${resume}`);
}

function memory(): { tensors: number; bytes: number; gpuBytes: number | null } {
  const m = tf.memory() as tf.MemoryInfo & { numBytesInGPU?: number };
  return { tensors: m.numTensors, bytes: m.numBytes, gpuBytes: typeof m.numBytesInGPU === "number" ? m.numBytesInGPU : null };
}

function networkFromWeights(config: SmallUNet["config"], weights: Record<string, NamedArray>): SmallUNet {
  const net = new SmallUNet(config);
  try {
    net.params.load(weights);
    return net;
  } catch (error) {
    net.dispose();
    throw error;
  }
}

export async function* imageTrainJob(params: ImageTrainParams, shouldStop: () => boolean = () => false, control?: JobControl, fetchImpl: Fetch = globalFetch): AsyncGenerator<ImageTrainProgress, ImageTrainResult> {
  // The plan: from the parameters, or from the checkpoint being resumed.
  let checkpoint: TrainingCheckpoint | null = null;
  if (params.resume) {
    const bytes = "key" in params.resume ? await loadCheckpoint(params.resume.key) : params.resume.bytes;
    if (!bytes) throw new Error("there is no saved run to resume in this browser");
    const file = readTrainingFile(bytes);
    if (file.kind !== "training") throw new Error("this file is a model, not a training checkpoint: load it as a teacher instead");
    checkpoint = file.checkpoint;
  }
  const plan = checkpoint ?? { classes: params.classes, teacher: params.teacher, student: params.student };
  const startPhase: ImageTrainPhase = checkpoint?.phase ?? (plan.teacher && plan.teacher.steps > 0 ? "teacher" : "student");
  if (startPhase === "student" && !plan.student) throw new Error("nothing to train: no consistency phase and no teacher phase");

  for (const p of [plan.teacher, plan.student]) {
    if (p && p.config.network.resolution !== CIFAR10_SHAPE.height) throw new Error(`this run was made for ${p.config.network.resolution}×${p.config.network.resolution} images; the page trains on CIFAR-10's 32×32 (continue it with npm run train)`);
  }
  const meta = await fetchCifar10Meta(params.data.meta, fetchImpl);
  const dataset = new ImageDataset(plan.classes, CIFAR10_SHAPE, Math.max(...plan.classes.map((c) => meta.perClass[c])));
  const streams = new ClassFileStreams(dataset, meta, params.data.classFiles, fetchImpl);
  // The teacher network, and its weights as saved in every checkpoint of the consistency phase (kept here: they
  // never change, so an autosave need not read them back from the GPU).
  const teacher: { net: SmallUNet | null; weights: Record<string, NamedArray> | null } = { net: null, weights: null };
  const useTeacher = (config: SmallUNet["config"], weights: Record<string, NamedArray>) => {
    teacher.net = networkFromWeights(config, weights);
    teacher.weights = weights;
  };
  let run: ImageRun | null = null;
  let lastSave: number | null = null;
  const label = (phase: ImageTrainPhase) => {
    const p = phase === "teacher" ? plan.teacher! : plan.student!;
    const objective = { teacher: "teacher (diffusion)", sct: "sCT", scd: "sCD" }[p.config.objective as "teacher" | "sct" | "scd"];
    return `${objective}, ${p.config.network.baseChannels}-channel UNet, ${plan.classes.length === 10 ? "all classes" : plan.classes.map((c) => CIFAR10_CLASSES[c]).join(" + ")}`;
  };

  try {
    // Wait for enough images of every class; the rest keeps streaming in during training.
    const needed = params.minImagesPerClass ?? 64;
    for (;;) {
      if (streams.error) throw streams.error;
      const data = streams.progress();
      if (data.perClass.every((n) => n >= needed) || data.complete) {
        yield { kind: "data", data, milestone: true };
        break;
      }
      if (shouldStop()) return { phase: startPhase, iteration: 0, stopped: true };
      yield { kind: "data", data };
      await sleep(100);
    }

    if (params.teacherModel) {
      const file = readTrainingFile(params.teacherModel);
      if (file.kind !== "model") throw new Error("the teacher file is a training checkpoint: resume it, or export its model");
      useTeacher(file.config, file.weights);
    } else {
      const saved = checkpoint && teacherOf(checkpoint);
      if (saved) useTeacher(saved.network, saved.weights);
    }

    for (const phase of ["teacher", "student"] as const) {
      if (phase === "teacher" && startPhase === "student") continue;
      const phasePlan = phase === "teacher" ? plan.teacher! : plan.student;
      if (!phasePlan) break;
      run = new ImageRun(dataset, phasePlan.config, phase === "student" ? teacher.net ?? undefined : undefined);
      if (checkpoint && checkpoint.phase === phase) await run.restore(checkpoint.state);
      yield { kind: "phase", phase, objective: phasePlan.config.objective, parameters: run.parameterCount, steps: phasePlan.steps, startIteration: run.iteration, backend: tf.getBackend(), milestone: true };

      const autosave = async () => {
        if (!params.autosave || !run) return null;
        const bytes = await checkpointBytes(run, phase);
        const summary: CheckpointSummary = { key: params.autosave.key, phase, iteration: run.iteration, steps: phasePlan.steps, label: label(phase), bytes: bytes.length, savedAt: Date.now() };
        try {
          await saveCheckpoint(summary, bytes);
          lastSave = run.iteration;
          return { kind: "saved" as const, phase, iteration: run.iteration, bytes: bytes.length, milestone: true as const };
        } catch (error) {
          return { kind: "saveFailed" as const, message: `could not save the run in this browser: ${describeError(error)}`, milestone: true as const };
        }
      };
      const checkpointBytes = async (r: ImageRun, p: ImageTrainPhase) =>
        writeTrainingCheckpoint({
          phase: p, classes: plan.classes, teacher: plan.teacher, student: plan.student, state: await r.state(),
          teacherWeights: p === "student" ? teacher.weights : null,
        });
      const samples = async (r: ImageRun) => ({ kind: "samples" as const, phase, samples: await r.samples(params.sampleCount, 1234, params.odeSteps), milestone: true as const });

      yield await samples(run);
      // Steps are queued and their metrics read back every few steps (read-back-interval.ts); everything that reads
      // or saves the weights, or leaves them, reads the queued steps first, so that it never sees unchecked steps.
      const recent: number[] = [];
      let readEvery = 1;
      let queuedSince: number | null = null;
      const stepsRead = (reports: StepReport[]): ImageTrainProgress[] => {
        if (reports.length === 0) return [];
        const stepMs = (performance.now() - queuedSince!) / reports.length;
        queuedSince = null;
        readEvery = stepsPerReadBack(stepMs, params.readBackMs ?? READ_BACK_TARGET_MS);
        for (const _ of reports) recent.push(stepMs);
        recent.splice(0, recent.length - 20);
        const imagesPerSecond = (phasePlan.config.batch * recent.length * 1000) / recent.reduce((a, b) => a + b, 0);
        return [{ kind: "steps", phase, reports: reports.map((r) => ({ ...r, stepMs })), phaseSteps: phasePlan.steps, imagesPerSecond, memory: memory(), data: streams.progress(), milestone: true }];
      };
      const due = (every: number) => run!.iteration % every === 0 || run!.iteration === phasePlan.steps;
      while (run.iteration < phasePlan.steps) {
        const commands = control?.takeCommands() ?? [];
        const stopping = shouldStop();
        if (commands.length > 0 || stopping || control?.isPaused) yield* stepsRead(await run.flush());
        for (const command of commands) {
          if (command === "save") {
            const report = await autosave();
            if (report) yield report;
          } else if (command === "export-checkpoint") {
            yield { kind: "file", what: "checkpoint", fileName: `scm-lab-${phase}-step${run.iteration}.safetensors`, bytes: await checkpointBytes(run, phase), milestone: true };
          } else if (command === "export-model") {
            yield { kind: "file", what: "model", fileName: `scm-lab-${phasePlan.config.objective}-ema-step${run.iteration}.safetensors`, bytes: writeModel(run.ema.config, await run.ema.params.save()), milestone: true };
          }
        }
        if (stopping) {
          const report = await autosave();
          if (report) yield report;
          return { phase, iteration: run.iteration, stopped: true };
        }
        // A command can wake a paused job for one generator step: answer it, then let the job pause again.
        if (control?.isPaused) {
          yield { kind: "data", data: streams.progress() };
          continue;
        }
        if (streams.error) throw streams.error;
        const scope = openGpuMemoryScope();
        queuedSince ??= performance.now();
        let reports: StepReport[];
        try {
          reports = await run.enqueueStep(readEvery);
          const boundary = due(params.sampleEvery) || (params.autosave !== null && due(params.autosave.everySteps));
          if (boundary) reports.push(...(await run.flush()));
        } finally {
          await scope.close(`at training step ${run.iteration}`);
        }
        yield* stepsRead(reports);
        if (due(params.sampleEvery)) yield await samples(run);
        if (params.autosave && due(params.autosave.everySteps)) {
          const saved = await autosave();
          if (saved) yield saved;
        }
      }
      if (phase === "student" || !plan.student) return { phase, iteration: run.iteration, stopped: false };
      // The consistency phase starts from the teacher's EMA (App. G.2), kept as a standalone network.
      useTeacher(run.ema.config, await run.ema.params.save());
      run.dispose();
      run = null;
    }
    return { phase: startPhase, iteration: 0, stopped: false };
  } catch (error) {
    throw explain(error, lastSave);
  } finally {
    streams.cancel();
    run?.dispose();
    teacher.net?.dispose();
  }
}
