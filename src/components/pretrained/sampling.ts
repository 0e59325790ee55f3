/**
 * One or two sampling steps of a loaded pretrained model, timed, as RGBA pixels a page can draw:
 * - a diffusers UNet2DModel (OpenAI's discrete-time consistency models): EDM scalings with the σmin boundary
 *   condition (cm-sampler.ts), σmax = 80 then the published second noise level;
 * - an sCM Lab UNet: TrigFlow's consistency function f = cos t·x_t − σd sin t·F at t_max, then t_mid = 1.1.
 * With two steps the estimate after the first step is returned too, so the page can show what the second
 * step changed.
 */
import * as tf from "@tensorflow/tfjs";
import { IMAGENET64_TWO_STEP, OPENAI_CM_SCHEDULE, sampleConsistencyModel, sigmasForTimesteps, toUnitPixels } from "./cm-sampler.js";
import { MAX_BATCH, type TwoStepSetting } from "./models.js";
import { T_MAX, T_MID, sigmaFromT, tFromSigma } from "../trigflow/trigflow.js";
import type { UNet2DModel } from "./unet2d/model.js";
import { sampleScmLabUnet } from "./scm-lab-checkpoint.js";
import type { SmallUNet } from "../nn/unet.js";

export interface SampleRequest {
  steps: 1 | 2;
  seed: number;
  /** images in the batch, 1–8; all get the same class */
  count: number;
  /** the class for class-conditional models (ignored by unconditional ones) */
  classLabel: number | null;
  /** which published second noise level the EDM sampler uses for two steps */
  twoStep: TwoStepSetting;
}

export interface RgbaImage {
  width: number;
  height: number;
  /** width·height·4 bytes, rows top to bottom */
  data: Uint8ClampedArray;
}

export interface SampleResult {
  images: RgbaImage[];
  /** with two steps: the estimate after the first step (the 1-step sample from the same noise) */
  afterFirstStep: RgbaImage[] | null;
  /** the noise level of each step in TrigFlow time t, and as EDM σ */
  times: { t: number; sigma: number }[];
  /** wall time of the sampling call including the read-back of the pixels, and per step */
  elapsedMs: number;
  msPerStep: number;
  backend: string;
}

/**
 * The EDM noise levels of 1- or 2-step sampling: σmax alone, or σmax then the published second level (CD:
 * timesteps [22, 0] of 40, σ ≈ 1.382; CT: [106, 0] of 201, σ ≈ 1.913).
 */
export function samplingSigmas(steps: 1 | 2, setting: TwoStepSetting): number[] {
  if (steps === 1) return [OPENAI_CM_SCHEDULE.sigmaMax];
  const { timesteps, numTrainTimesteps } = IMAGENET64_TWO_STEP[setting];
  return sigmasForTimesteps(timesteps, numTrainTimesteps);
}

/** Check a request against what the model can take; throws a RangeError with the reason. */
export function checkSampleRequest(request: SampleRequest, numClasses: number | null): void {
  if (request.steps !== 1 && request.steps !== 2) throw new RangeError(`steps must be 1 or 2, got ${request.steps}`);
  if (!Number.isInteger(request.count) || request.count < 1 || request.count > MAX_BATCH) throw new RangeError(`the number of images must be 1–${MAX_BATCH}, got ${request.count}`);
  if (!Number.isInteger(request.seed)) throw new RangeError(`the seed must be an integer, got ${request.seed}`);
  if (numClasses !== null) {
    const label = request.classLabel;
    if (label === null || !Number.isInteger(label) || label < 0 || label >= numClasses) throw new RangeError(`choose a class from 0 to ${numClasses - 1} (got ${label})`);
  }
}

/** NHWC images in [0, 1] → one RGBA image each (grey for one channel). Disposes nothing it was given. */
export async function toRgbaImages(unit: tf.Tensor4D): Promise<RgbaImage[]> {
  const [count, height, width, channels] = unit.shape;
  const bytes = tf.tidy(() => tf.round(tf.mul(unit, 255)));
  const values = await bytes.data();
  bytes.dispose();
  const images: RgbaImage[] = [];
  for (let n = 0; n < count; n++) {
    const data = new Uint8ClampedArray(width * height * 4);
    for (let p = 0; p < width * height; p++) {
      const base = (n * width * height + p) * channels;
      for (let c = 0; c < 3; c++) data[p * 4 + c] = values[base + (channels >= 3 ? c : 0)];
      data[p * 4 + 3] = 255;
    }
    images.push({ width, height, data });
  }
  return images;
}

/** Run `sample` (which returns images in the data range [−1, 1]) and time it up to the read-back. */
async function timed(sample: () => tf.Tensor4D): Promise<{ images: RgbaImage[]; elapsedMs: number }> {
  const start = performance.now();
  const x = sample();
  const unit = toUnitPixels(x) as tf.Tensor4D;
  x.dispose();
  try {
    const images = await toRgbaImages(unit);
    return { images, elapsedMs: performance.now() - start };
  } finally {
    unit.dispose();
  }
}

async function pixelsOf(x: tf.Tensor4D): Promise<RgbaImage[]> {
  const unit = toUnitPixels(x) as tf.Tensor4D;
  try {
    return await toRgbaImages(unit);
  } finally {
    unit.dispose();
  }
}

/** OpenAI's consistency models through diffusers' UNet2DModel: Alg. 1 of the CM paper with EDM scalings. */
export async function sampleDiffusersModel(net: UNet2DModel, request: SampleRequest, size: [number, number]): Promise<SampleResult> {
  const numClasses = net.config.numClassEmbeds;
  checkSampleRequest(request, numClasses);
  const sigmas = samplingSigmas(request.steps, request.twoStep);
  const shape: [number, number, number, number] = [request.count, size[0], size[1], net.config.inChannels];
  const classLabels = numClasses === null ? null : new Array<number>(request.count).fill(request.classLabel as number);
  let first: tf.Tensor4D | null = null;
  try {
    const { images, elapsedMs } = await timed(() =>
      sampleConsistencyModel((x, t, y) => net.forward(x, t, y), {
        sigmas, shape, classLabels, seed: request.seed,
        onStep: (step, denoised) => {
          if (step === 0 && request.steps === 2) first = tf.clone(denoised);
        },
      }),
    );
    const afterFirstStep = first ? await pixelsOf(first) : null;
    return { images, afterFirstStep, times: sigmas.map((sigma) => ({ sigma, t: tFromSigma(sigma) })), elapsedMs, msPerStep: elapsedMs / request.steps, backend: tf.getBackend() };
  } finally {
    (first as tf.Tensor4D | null)?.dispose();
  }
}

/** An sCM Lab UNet: TrigFlow 1- or 2-step sampling; the 1-step sample from the same seed is the first step. */
export async function sampleScmLabModel(net: SmallUNet, request: SampleRequest): Promise<SampleResult> {
  checkSampleRequest(request, null);
  const options = { count: request.count, seed: request.seed };
  const { images, elapsedMs } = await timed(() => sampleScmLabUnet(net, { ...options, steps: request.steps }));
  let afterFirstStep: RgbaImage[] | null = null;
  if (request.steps === 2) {
    const first = sampleScmLabUnet(net, { ...options, steps: 1 });
    try {
      afterFirstStep = await pixelsOf(first);
    } finally {
      first.dispose();
    }
  }
  const times = (request.steps === 1 ? [T_MAX] : [T_MAX, T_MID]).map((t) => ({ t, sigma: sigmaFromT(t) }));
  return { images, afterFirstStep, times, elapsedMs, msPerStep: elapsedMs / request.steps, backend: tf.getBackend() };
}
