/**
 * The state of the pretrained-models page and the actions that change it. Every action runs as a job in one
 * resident worker (../worker-client.ts), so downloads, file reads, GPU uploads and sampling never block the
 * page. One action at a time; each ends in a new state with at most one message (an error, or a note such as
 * "stopped"). The panels subscribe and redraw themselves from the state.
 */
import { downloadCache, type CacheStatus } from "../../components/checkpoint/download-cache.js";
import type { InspectParams, InspectResult } from "../../components/jobs/pretrained-jobs.js";
import type { LoadProgress, LoadRequest, ModelInfo } from "../../components/pretrained/loader.js";
import { KNOWN_MODELS, modelFileUrl, UNET_CONFIG_PATH, UNET_WEIGHTS_PATH, type KnownModel, type TwoStepSetting } from "../../components/pretrained/models.js";
import type { SampleRequest, SampleResult } from "../../components/pretrained/sampling.js";
import { classifyFiles } from "./files.js";
import { formatBytes } from "../format.js";
import { JobsWorker, resultOf, type WorkerJob } from "../worker-client.js";
import { describeError } from "../../components/checkpoint/errors.js";
import type { JobParams, JobResult } from "../../components/jobs/registry.js";

export type TaskKind = "inspect" | "download" | "file" | "sample";

export interface SessionState {
  /** what is running now, or null */
  task: { kind: TaskKind; label: string } | null;
  progress: LoadProgress | null;
  /**
   * The one message to show; replaced by the next action. `source` is the control whose action left it, so the
   * page shows it right there (status.ts taskStatus); "worker" is the worker itself dying.
   */
  message: { kind: "error" | "note"; text: string; source: TaskKind | "worker" } | null;
  /** what the inspect job learned about each known model, by model id */
  inspections: Record<string, InspectResult>;
  /** the model resident in the worker */
  model: ModelInfo | null;
  /** the latest samples, with the request that made them and whether they were the first since loading */
  samples: { result: SampleResult; request: SampleRequest; first: boolean } | null;
  /** the browser's copies of downloaded models */
  cache: CacheStatus | null;
}

const STOPPED = /^stopped at your request/;

/** A message from deeper down as the start of a sentence. */
const sentence = (text: string) => `${text[0]?.toUpperCase() ?? ""}${text.slice(1)}`;
/** ...and its end. */
const period = (text: string) => (/[.!?)]$/.test(text.trim()) ? text : `${text}.`);

export class PretrainedSession {
  private readonly worker: JobsWorker;
  private readonly listeners = new Set<(state: SessionState) => void>();
  /** the job in progress, for Stop */
  private running: Pick<WorkerJob, "stop"> | null = null;
  private samplesSinceLoad = 0;
  private state: SessionState = { task: null, progress: null, message: null, inspections: {}, model: null, samples: null, cache: null };

  constructor(workerUrl: string) {
    this.worker = new JobsWorker(workerUrl, undefined, (reason) => this.update({ model: null, samples: null, message: { kind: "error", text: `${sentence(reason)}; the loaded model is gone, load it again.`, source: "worker" } }));
  }

  /** Call `listener` now and after every change; returns the unsubscribe function. */
  subscribe(listener: (state: SessionState) => void): () => void {
    this.listeners.add(listener);
    listener(this.state);
    return () => this.listeners.delete(listener);
  }

  get current(): SessionState {
    return this.state;
  }

  /** Read a known model's config.json and weights header (kilobytes) to show its size before the download. */
  async inspect(model: KnownModel): Promise<void> {
    const params: InspectParams = { configUrl: modelFileUrl(model, UNET_CONFIG_PATH), weightsUrl: modelFileUrl(model, UNET_WEIGHTS_PATH) };
    const result = await this.runTask({ kind: "inspect", label: `reading ${model.label}'s config.json` }, "pretrainedInspect", params, (error) => `Could not read the model's config.json: ${error}`);
    if (result) this.update({ inspections: { ...this.state.inspections, [model.id]: result } });
  }

  /** Download a known model (or read the copy kept in this browser) into the worker. Needs inspect() first. */
  async download(model: KnownModel, keepCopy: boolean): Promise<void> {
    const inspection = this.state.inspections[model.id];
    if (!inspection) return this.update({ message: { kind: "error", text: "Read the model's config.json first.", source: "download" } });
    const request: LoadRequest = {
      weights: { kind: "url", url: modelFileUrl(model, UNET_WEIGHTS_PATH), keepCopy },
      config: { kind: "json", value: inspection.config },
      label: model.label,
      twoStep: model.twoStep,
    };
    await this.load({ kind: "download", label: `loading ${model.label}` }, request);
    await this.refreshCache();
  }

  /**
   * Load files the reader chose or dropped: safetensors weights, with their config.json for a diffusers UNet
   * (or `fallbackConfig`, a known model's config fetched from the hub), none for an sCM Lab checkpoint.
   */
  async loadFiles(files: readonly File[], fallbackConfig: KnownModel | null, twoStep: TwoStepSetting): Promise<void> {
    if (this.state.task) return;
    const chosen = classifyFiles(files);
    if ("error" in chosen) return this.update({ message: { kind: "error", text: `${sentence(chosen.error)}.`, source: "file" } });
    const config: LoadRequest["config"] = chosen.config
      ? { kind: "blob", blob: chosen.config, name: chosen.config.name }
      : fallbackConfig
        ? { kind: "url", url: modelFileUrl(fallbackConfig, UNET_CONFIG_PATH) }
        : null;
    const request: LoadRequest = { weights: { kind: "blob", blob: chosen.weights, name: chosen.weights.name }, config, label: chosen.weights.name, twoStep };
    await this.load({ kind: "file", label: `reading ${chosen.weights.name} (${formatBytes(chosen.weights.size)})` }, request);
  }

  async sample(request: SampleRequest): Promise<void> {
    if (!this.state.model) return this.update({ message: { kind: "error", text: "Load a model first.", source: "sample" } });
    const result = await this.runTask({ kind: "sample", label: `sampling ${request.steps} step${request.steps > 1 ? "s" : ""}` }, "pretrainedSample", request, (error) => `Sampling failed: ${error}`);
    if (result) this.update({ samples: { result, request, first: this.samplesSinceLoad++ === 0 } });
  }

  /** Ask the running download or file read to stop; it frees what it uploaded. */
  stop(): void {
    this.running?.stop();
  }

  /** Re-count the kept copies, and note for each inspected model whether its copy is among them. */
  async refreshCache(): Promise<void> {
    const cache = downloadCache();
    const inspections = { ...this.state.inspections };
    for (const model of KNOWN_MODELS) {
      const inspection = inspections[model.id];
      if (!inspection) continue;
      const copy = await cache.lookup(modelFileUrl(model, UNET_WEIGHTS_PATH)).catch(() => undefined);
      inspections[model.id] = { ...inspection, cachedBytes: copy ? copy.size : null };
    }
    this.update({ cache: await cache.status(), inspections });
  }

  async clearCache(): Promise<void> {
    if (this.state.task?.kind === "download") return;
    await downloadCache().clear();
    await this.refreshCache();
  }

  dispose(): void {
    this.worker.terminate();
    this.listeners.clear();
  }

  private async load(task: SessionState["task"] & {}, request: LoadRequest): Promise<void> {
    const info = await this.runTask(task, "pretrainedLoad", request, (error) => `Could not load ${request.label}: ${error}`);
    if (info) {
      this.samplesSinceLoad = 0;
      this.update({ model: info });
    }
  }

  /** Run one job; returns its result, or null after putting its failure (or "stopped") in the message. */
  private async runTask<N extends "pretrainedInspect" | "pretrainedLoad" | "pretrainedSample">(task: SessionState["task"] & {}, job: N, params: JobParams<N>, explain: (error: string) => string): Promise<JobResult<N> | null> {
    if (this.state.task) return null;
    this.update({ task, progress: null, message: null });
    const running = this.worker.start(job, params);
    this.running = running;
    try {
      return await resultOf(running, (progress) => {
        if (!isLoadProgress(progress)) return;
        // The worker frees the previous model once the new file passed its checks: forget it here too.
        if (progress.uploading && this.state.model) this.update({ model: null, samples: null });
        this.update({ progress });
      });
    } catch (error) {
      const text = describeError(error);
      this.update({ message: STOPPED.test(text) ? { kind: "note", text: `Stopped: ${task.label} was cancelled and everything it had loaded was freed.`, source: task.kind } : { kind: "error", text: period(explain(text)), source: task.kind } });
      return null;
    } finally {
      this.running = null;
      this.update({ task: null, progress: null });
    }
  }

  private update(change: Partial<SessionState>): void {
    this.state = { ...this.state, ...change };
    for (const listener of this.listeners) listener(this.state);
  }
}

/** Only loading reports bytes; the other pretrained jobs' progress is a stage marker. */
function isLoadProgress(progress: unknown): progress is LoadProgress {
  return typeof progress === "object" && progress !== null && "receivedBytes" in progress;
}
