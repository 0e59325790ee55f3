/**
 * Load a pretrained model from a URL (optionally through the browser's Cache Storage) or from a file, as a
 * job-style async generator: it yields progress (bytes, rate, ETA, tensors) and returns the loaded model.
 *
 * What the file is decides how it loads:
 * - safetensors whose metadata has "scm_lab_unet": sCM Lab's own UNet, self-describing, TrigFlow sampler;
 * - any other safetensors: a diffusers UNet2DModel, which needs its config.json; the header is checked against
 *   the config before the first tensor byte is read.
 * Anything else (a pickle, a zip, an HTML page, a truncated file…) fails with the checkpoint reader's one-line
 * message. On failure or stop every tensor uploaded so far is freed and the transfer is cancelled.
 */
import * as tf from "@tensorflow/tfjs";
import type { ByteSource } from "../checkpoint/byte-source.js";
import { blobSource } from "../checkpoint/blob-source.js";
import { downloadCache, type DownloadCache } from "../checkpoint/download-cache.js";
import { CheckpointFormatError } from "../checkpoint/errors.js";
import { elementCount, type SafetensorsHeader } from "../checkpoint/header.js";
import type { DownloadProgress } from "../checkpoint/progress.js";
import { openSafetensorsStream, readSafetensorsHeader } from "../checkpoint/stream-reader.js";
import type { StreamedTensor } from "../checkpoint/streamed-tensor.js";
import { urlSource } from "../checkpoint/url-source.js";
import { readConfig, type ConfigSource } from "./config.js";
import { openGpuMemoryScope } from "../runtime/gpu-memory.js";
import { checkHeaderAgainstSpecs } from "./header-check.js";
import { LARGE_MODEL_PARAMETERS, type TwoStepSetting } from "./models.js";
import { reportsOf } from "./report-pump.js";
import { sampleDiffusersModel, sampleScmLabModel, type SampleRequest, type SampleResult } from "./sampling.js";
import type { SmallUNet } from "../nn/unet.js";
import { UNet2DModel } from "./unet2d/model.js";
import { loadScmLabUnet } from "./scm-lab-checkpoint.js";
import { readScmLabUnetConfig } from "../nn/unet-checkpoint-metadata.js";
import { describeTrainingCheckpoint } from "../image/image-checkpoint.js";

export type WeightsSource = { kind: "url"; url: string; keepCopy: boolean } | { kind: "blob"; blob: Blob; name: string };

export interface LoadRequest {
  weights: WeightsSource;
  /** the config.json of a diffusers UNet; null when none was given (fine for an sCM Lab checkpoint) */
  config: ConfigSource | null;
  /** the name shown for the model */
  label: string;
  /** the published two-step setting to sample with (a file of unknown origin gets the page's choice) */
  twoStep: TwoStepSetting;
}

export interface LoadProgress extends DownloadProgress {
  /** "store": network → browser cache; "download": network → model; "read": file or cached copy → model */
  stage: "store" | "download" | "read";
  /** true once tensors go to the model (after every check of the file's header passed) */
  uploading: boolean;
  /** set on the report that starts the upload, so the worker passes it on whatever its throttle */
  milestone?: boolean;
  tensors: number;
  tensorCount: number | undefined;
}

export interface ModelInfo {
  kind: "diffusers" | "scm-lab";
  label: string;
  /** where the bytes came from */
  origin: "network" | "browser copy" | "file";
  parameterCount: number;
  tensorCount: number;
  fileBytes: number | undefined;
  height: number;
  width: number;
  channels: number;
  /** number of classes of a class-conditional model, else null */
  numClasses: number | null;
  twoStep: TwoStepSetting;
  backend: string;
  loadSeconds: number;
}

export interface LoadedModel {
  readonly info: ModelInfo;
  sample(request: SampleRequest): Promise<SampleResult>;
  dispose(): void;
}

export class MissingConfigError extends CheckpointFormatError {
  override name = "MissingConfigError";
}

export class LoadStoppedError extends Error {
  override name = "LoadStoppedError";
  constructor() {
    super("stopped at your request; nothing was kept");
  }
}

export interface LoadOptions {
  shouldStop?: () => boolean;
  cache?: DownloadCache;
  /** the TF.js backend that will hold the weights (the big models need WebGPU) */
  backend?: string;
  /** fetch for the config (tests) */
  fetch?: typeof fetch;
  /**
   * Called once every check of the file has passed, just before the first tensor is uploaded: the moment to
   * free a previous model (a bad file then leaves it in place).
   */
  beforeUpload?: () => void;
}

/** Parameters a header holds: the sum of its tensors' element counts. */
export function headerParameterCount(header: SafetensorsHeader): number {
  return header.tensors.reduce((n, t) => n + elementCount(t.shape), 0);
}

/** Why a model of this size is not loaded on this backend, or null when it may be. */
export function sizeRefusal(parameterCount: number, backend: string): string | null {
  if (parameterCount <= LARGE_MODEL_PARAMETERS || backend === "webgpu") return null;
  return `this model has ${parameterCount.toLocaleString("en-US")} parameters (${(parameterCount * 4 / 1e9).toFixed(2)} GB as float32); models over ${LARGE_MODEL_PARAMETERS / 1e6} M parameters are loaded only with WebGPU, and TF.js runs on ${backend} here`;
}

export async function* loadPretrained(request: LoadRequest, options: LoadOptions = {}): AsyncGenerator<LoadProgress, LoadedModel> {
  const started = performance.now();
  const shouldStop = options.shouldStop ?? (() => false);
  const backend = options.backend ?? tf.getBackend();
  const cache = options.cache ?? downloadCache();
  const controller = new AbortController();
  const onTick = () => {
    if (shouldStop() && !controller.signal.aborted) controller.abort(new LoadStoppedError());
  };
  let declared: UNet2DModel | null = null;
  let net: LoadedNetwork | null = null;
  try {
    const readDeclared = async (source: ConfigSource) => {
      // A diffusers model is declared from its config (nothing is allocated yet): an unsupported or too large
      // config fails before any tensor byte is read.
      const model = new UNet2DModel(await readConfig(source, { fetch: options.fetch, signal: controller.signal }));
      const refusal = sizeRefusal(model.parameterCount, backend);
      if (refusal) throw new Error(refusal);
      return model;
    };
    // A config at a URL is fetched only once the weights turn out to need one (an sCM Lab file does not).
    if (request.config && request.config.kind !== "url") declared = await readDeclared(request.config);

    let source: ByteSource;
    let stage: LoadProgress["stage"] = "read";
    let origin: ModelInfo["origin"] = "file";
    if (request.weights.kind === "blob") {
      source = blobSource(request.weights.blob, request.weights.name);
    } else {
      const { url, keepCopy } = request.weights;
      let copy = await cache.lookup(url);
      if (!copy && keepCopy) {
        // Check the remote header first: no point filling the cache with 1.18 GB that does not fit the config.
        const remote = await readSafetensorsHeader(urlSource(url));
        if (declared) checkHeaderAgainstSpecs(remote, declared.weightSpecs());
        const tensorCount = remote.tensors.length;
        const stored = yield* reportsOf<LoadProgress, boolean>(
          (report) => cache.store(url, urlSource(url), { signal: controller.signal, onProgress: (p) => report({ ...p, stage: "store", uploading: false, tensors: 0, tensorCount }) }),
          { onTick },
        );
        // store() is false where Cache Storage is unavailable: then the model streams from the network.
        if (stored) copy = await cache.lookup(url);
      }
      if (copy) {
        source = blobSource(copy, "the copy kept in this browser");
        origin = "browser copy";
      } else {
        source = urlSource(url);
        stage = "download";
        origin = "network";
      }
    }

    let latest: DownloadProgress = { receivedBytes: 0, totalBytes: source.size, bytesPerSecond: 0, etaSeconds: undefined };
    let tensors = 0;
    let tensorCount: number | undefined;
    let report: ((p: LoadProgress) => void) | null = null;
    let uploading = false;
    const progress = (): LoadProgress => ({ ...latest, stage, uploading, tensors, tensorCount });
    const stream = await openSafetensorsStream(source, {
      signal: controller.signal,
      onProgress: (p) => {
        latest = p;
        report?.(progress());
      },
    });
    const header = stream.header;
    tensorCount = header.tensors.length;
    yield progress();
    // Every tensor passes here: count it for the progress bar, and stop between two tensors when asked.
    const counted = async function* (all: AsyncIterable<StreamedTensor>): AsyncGenerator<StreamedTensor> {
      for await (const t of all) {
        onTick();
        controller.signal.throwIfAborted();
        yield t;
        tensors++;
        report?.(progress());
      }
    };
    const parameterCount = headerParameterCount(header);
    const scope = openGpuMemoryScope();
    try {
      // A /cifar10 training checkpoint has neither sCM Lab model metadata nor a diffusers config: say what it
      // is and which file to choose instead, rather than taking it for a diffusers UNet without its config.
      const trainingRun = describeTrainingCheckpoint(header.metadata);
      if (trainingRun) throw new CheckpointFormatError(trainingRun);
      const isScmLab = readScmLabUnetConfig(header.metadata) !== null;
      if (!isScmLab && !declared && request.config) declared = await readDeclared(request.config);
      if (!isScmLab && !declared) {
        throw new MissingConfigError(
          'this safetensors file is a diffusers UNet (it has no "scm_lab_unet" metadata), which needs its config.json: choose the weights and their config.json together, or pick the config of a known model',
        );
      }
      const refusal = sizeRefusal(parameterCount, backend);
      if (refusal) throw new Error(refusal);
      if (!isScmLab) {
        checkHeaderAgainstSpecs(header, declared!.weightSpecs());
        if (!declared!.config.sampleSize) throw new CheckpointFormatError("the config.json has no sample_size, so the size of the images to sample is unknown");
      }
      const model = declared;
      options.beforeUpload?.();
      uploading = true;
      yield { ...progress(), milestone: true };
      net = yield* reportsOf<LoadProgress, LoadedNetwork>(async (push) => {
        report = push;
        if (isScmLab) return { kind: "scm-lab", model: await loadScmLabUnet(header.metadata, counted(stream.tensors())) };
        await model!.load(counted(stream.tensors()));
        return { kind: "diffusers", model: model! };
      }, { onTick });
      await scope.close("while loading the weights");
    } catch (error) {
      await scope.close("while loading the weights").catch((gpuError: unknown) => {
        error = gpuError; // running out of GPU memory explains the rest
      });
      await stream.close();
      throw error;
    }
    return loadedModel(net, {
      kind: net.kind, label: request.label, origin, parameterCount, tensorCount, fileBytes: source.size ?? stream.fileSize, twoStep: request.twoStep,
      backend: tf.getBackend(), loadSeconds: (performance.now() - started) / 1000,
    });
  } catch (error) {
    (net as LoadedNetwork | null)?.model.dispose();
    declared?.dispose();
    throw controller.signal.aborted ? controller.signal.reason : error;
  }
}

type LoadedNetwork = { kind: "diffusers"; model: UNet2DModel } | { kind: "scm-lab"; model: SmallUNet };

function loadedModel(net: LoadedNetwork, known: Omit<ModelInfo, "height" | "width" | "channels" | "numClasses">): LoadedModel {
  if (net.kind === "diffusers") {
    const c = net.model.config;
    const [height, width] = c.sampleSize!;
    const info: ModelInfo = { ...known, height, width, channels: c.inChannels, numClasses: c.numClassEmbeds };
    return { info, sample: (request) => sampleDiffusersModel(net.model, request, [height, width]), dispose: () => net.model.dispose() };
  }
  const c = net.model.config;
  const info: ModelInfo = { ...known, height: c.resolution, width: c.resolution, channels: c.inChannels, numClasses: null };
  return { info, sample: (request) => sampleScmLabModel(net.model, request), dispose: () => net.model.dispose() };
}
