/**
 * The pretrained-models page's worker jobs (registered in registry.ts). A 1.18 GB model cannot be loaded
 * again for every sample, so the page keeps one worker alive and the loaded model stays *resident* in it:
 * `pretrainedLoad` replaces it (freeing the old one only once the new file has passed its checks), `pretrainedSample` samples it, `pretrainedInspect` reads a remote model's
 * config.json and safetensors header (a few kilobytes) to tell the reader its size before the download.
 */
import * as tf from "@tensorflow/tfjs";
import { downloadCache } from "../checkpoint/download-cache.js";
import { describeError } from "../checkpoint/errors.js";
import { readSafetensorsHeader } from "../checkpoint/stream-reader.js";
import { urlSource } from "../checkpoint/url-source.js";
import { readConfig } from "../pretrained/config.js";
import { GpuMemoryError, openGpuMemoryScope } from "../runtime/gpu-memory.js";
import { checkHeaderAgainstSpecs } from "../pretrained/header-check.js";
import { loadPretrained, type LoadedModel, type LoadProgress, type LoadRequest, type ModelInfo } from "../pretrained/loader.js";
import type { SampleRequest, SampleResult } from "../pretrained/sampling.js";
import { UNet2DModel } from "../pretrained/unet2d/model.js";

let resident: LoadedModel | null = null;

/** Free the resident model (tests; a new load does it itself). */
export function disposeResidentModel(): void {
  resident?.dispose();
  resident = null;
}

export interface InspectParams {
  configUrl: string;
  weightsUrl: string;
}

export interface InspectResult {
  config: Record<string, unknown>;
  /** from the config, before any weight is downloaded */
  parameterCount: number;
  float32Bytes: number;
  /** what the weights file's header says, or why it could not be read */
  file: { bytes: number | undefined; tensorCount: number } | { error: string };
  /** bytes of the copy kept in this browser, or null */
  cachedBytes: number | null;
  /** the TF.js backend the worker runs on */
  backend: string;
}

export async function* pretrainedInspectJob(params: InspectParams): AsyncGenerator<never, InspectResult> {
  const config = await readConfig({ kind: "url", url: params.configUrl });
  const model = new UNet2DModel(config); // declares the weights; allocates nothing
  let file: InspectResult["file"];
  try {
    const source = urlSource(params.weightsUrl);
    const header = await readSafetensorsHeader(source);
    checkHeaderAgainstSpecs(header, model.weightSpecs());
    file = { bytes: source.size, tensorCount: header.tensors.length };
  } catch (error) {
    file = { error: describeError(error) };
  }
  const copy = await downloadCache().lookup(params.weightsUrl).catch(() => undefined);
  return { config, parameterCount: model.parameterCount, float32Bytes: 4 * model.parameterCount, file, cachedBytes: copy ? copy.size : null, backend: tf.getBackend() };
}

export async function* pretrainedLoadJob(params: LoadRequest, shouldStop: () => boolean = () => false): AsyncGenerator<LoadProgress, ModelInfo> {
  // The previous model is freed once the new file has passed its checks (a wrong file leaves it loaded), and
  // before the new weights go to the GPU: two 1.18 GB models need not fit there together.
  resident = yield* loadPretrained(params, { shouldStop, beforeUpload: disposeResidentModel });
  return resident.info;
}

export async function* pretrainedSampleJob(params: SampleRequest): AsyncGenerator<{ stage: "sampling"; milestone: true }, SampleResult> {
  if (!resident) throw new Error("no model is loaded in the worker (load one first)");
  yield { stage: "sampling", milestone: true };
  const scope = openGpuMemoryScope();
  let result: SampleResult;
  try {
    result = await resident.sample(params);
  } catch (error) {
    await scope.close("while sampling").catch((gpuError: unknown) => (error = gpuError));
    throw error;
  }
  try {
    await scope.close("while sampling");
  } catch (error) {
    // Out of memory mid-sample leaves the images wrong; a lost device leaves the model unusable.
    if (error instanceof GpuMemoryError && /lost/.test(error.message)) disposeResidentModel();
    throw error;
  }
  return result;
}
