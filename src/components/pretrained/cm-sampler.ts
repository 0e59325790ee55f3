/**
 * Sampling from the discrete-time consistency models of Song et al. 2023 ("Consistency Models", Alg. 1
 * multistep consistency sampling) with EDM scalings, as diffusers' CMStochasticIterativeScheduler and
 * ConsistencyModelPipeline run OpenAI's ImageNet-64 CD/CT models (docs: checkpoints-and-data.md §1.2).
 *
 * With x_σ = x0 + σ·ε (EDM noise levels σ, ε ~ N(0, I)), the consistency function is
 *   f(x, σ) = c_skip(σ)·x + c_out(σ)·F(c_in(σ)·x, 250·ln σ, y)        (CM paper App. C, Eq. 7 of §3)
 *   c_skip = σd² / ((σ − σmin)² + σd²),  c_out = (σ − σmin)·σd / √(σ² + σd²),  c_in = 1/√(σ² + σd²)
 * so f(x, σmin) = x exactly (the boundary condition). Sampling: x = σmax·z; x0 = clip(f(x, σ_0));
 * for each later σ_i: x = x0 + √(σ_i² − σmin²)·z_i with fresh z_i, x0 = clip(f(x, σ_i)).
 *
 * These are not TrigFlow/sCM models; edmToTrigFlow() gives the change of variables that relates them.
 */
import * as tf from "@tensorflow/tfjs";
import { createRng } from "../math/rng.js";

export interface CmSchedule {
  sigmaMin: number;
  sigmaMax: number;
  sigmaData: number;
  /** Karras et al.'s ρ of the σ grid */
  rho: number;
}

/** The values of every OpenAI CM scheduler config (CD and CT, ImageNet-64 and LSUN): σmin 0.002, σmax 80, σd 0.5, ρ 7. */
export const OPENAI_CM_SCHEDULE: CmSchedule = { sigmaMin: 0.002, sigmaMax: 80, sigmaData: 0.5, rho: 7 };

/** Karras noise level at ramp r ∈ [0, 1]: (σmax^(1/ρ) + r·(σmin^(1/ρ) − σmax^(1/ρ)))^ρ; r = 0 gives σmax. */
export function karrasSigma(r: number, s: CmSchedule = OPENAI_CM_SCHEDULE): number {
  const high = s.sigmaMax ** (1 / s.rho);
  const low = s.sigmaMin ** (1 / s.rho);
  return (high + r * (low - high)) ** s.rho;
}

/**
 * The σ of each sampling step for diffusers' custom `timesteps` (CMStochasticIterativeScheduler.set_timesteps):
 * the list must be strictly decreasing and below num_train_timesteps; it is reversed and divided by N − 1 to give
 * Karras ramps, so [22, 0] with N = 40 gives σ = [karras(0), karras(22/39)] = [80, ≈1.3824]. (The original
 * openai/consistency_models code spells the same schedule `--ts 0,22,39`.)
 */
export function sigmasForTimesteps(timesteps: readonly number[], numTrainTimesteps: number, s: CmSchedule = OPENAI_CM_SCHEDULE): number[] {
  if (timesteps.length === 0) throw new RangeError("at least one timestep is needed");
  timesteps.forEach((t, i) => {
    if (!Number.isInteger(t) || t < 0) throw new RangeError(`timestep ${t} is not a grid index`);
    if (i > 0 && !(t < timesteps[i - 1])) throw new RangeError(`timesteps must be in descending order: ${timesteps.join(", ")}`);
  });
  if (timesteps[0] >= numTrainTimesteps) throw new RangeError(`timesteps must start below num_train_timesteps ${numTrainTimesteps}`);
  return [...timesteps].reverse().map((t) => karrasSigma(t / (numTrainTimesteps - 1), s));
}

/** The published few-step settings: CD uses timesteps [22, 0] of 40, CT ImageNet-64 [106, 0] of 201 (doc §1.2). */
export const IMAGENET64_TWO_STEP = {
  cd: { timesteps: [22, 0], numTrainTimesteps: 40 },
  ct: { timesteps: [106, 0], numTrainTimesteps: 201 },
} as const;

/** The network's time input: 1000·0.25·ln(σ + 1e-44) = 250·ln σ (scheduler.sigma_to_t; 1e-44 only guards σ = 0). */
export function cmTimeInput(sigma: number): number {
  return 1000 * 0.25 * Math.log(sigma + 1e-44);
}

/** c_skip, c_out with the σmin boundary shift (get_scalings_for_boundary_condition), and EDM's c_in (scale_model_input). */
export function boundaryScalings(sigma: number, s: CmSchedule = OPENAI_CM_SCHEDULE): { cSkip: number; cOut: number; cIn: number } {
  const d2 = s.sigmaData ** 2;
  return {
    cSkip: d2 / ((sigma - s.sigmaMin) ** 2 + d2),
    cOut: ((sigma - s.sigmaMin) * s.sigmaData) / Math.sqrt(sigma ** 2 + d2),
    cIn: 1 / Math.sqrt(sigma ** 2 + d2),
  };
}

/** F(x_in, time input, labels) → same shape, e.g. UNet2DModel.forward. */
export type CmNetwork = (xIn: tf.Tensor4D, timeInput: number, classLabels: ArrayLike<number> | null) => tf.Tensor4D;

/** f(x, σ) = c_skip·x + c_out·F(c_in·x, 250 ln σ, y), clipped to [−1, 1] unless clip is false (clip_denoised). */
export function consistencyDenoise(net: CmNetwork, x: tf.Tensor4D, sigma: number, classLabels: ArrayLike<number> | null, { clip = true, schedule = OPENAI_CM_SCHEDULE } = {}): tf.Tensor4D {
  const { cSkip, cOut, cIn } = boundaryScalings(sigma, schedule);
  return tf.tidy(() => {
    const denoised = tf.add(tf.mul(net(tf.mul(x, cIn), cmTimeInput(sigma), classLabels), cOut), tf.mul(x, cSkip)) as tf.Tensor4D;
    return clip ? tf.clipByValue(denoised, -1, 1) : denoised;
  });
}

/** Standard normal noise of a given NHWC shape; called once for the start and once per re-noising step. */
export type NoiseSource = (shape: [number, number, number, number]) => tf.Tensor4D;

/**
 * N(0, I) noise from sCM Lab's seeded generator (rng.ts), not tf.random*, whose seeding breaks in the browser
 * bundle: one stream per seed, drawn in NHWC order, start noise first, then each re-noising draw.
 */
export function seededNormalNoise(seed: number): NoiseSource {
  const rng = createRng(seed);
  return (shape) => {
    const values = new Float32Array(shape.reduce((a, b) => a * b, 1));
    for (let i = 0; i < values.length; i++) values[i] = rng.normal();
    return tf.tensor4d(values, shape);
  };
}

export interface CmSampleOptions {
  /** decreasing noise levels; [σmax] for one step, sigmasForTimesteps([22, 0], 40) for the CD two-step setting */
  sigmas: readonly number[];
  /** NHWC shape of the batch */
  shape: [number, number, number, number];
  /** one label per sample for class-conditional models, else null */
  classLabels: ArrayLike<number> | null;
  /** the noise draws (default: seededNormalNoise(seed)) */
  noise?: NoiseSource;
  seed?: number;
  /** clip each denoised estimate to [−1, 1] (clip_denoised, true in every OpenAI CM config) */
  clipDenoised?: boolean;
  schedule?: CmSchedule;
  /** called after each step with the step index and the current x0 estimate (still owned by the sampler) */
  onStep?: (step: number, denoised: tf.Tensor4D) => void;
}

/**
 * Multistep consistency sampling (CM paper Alg. 1), step for step as diffusers' pipeline: x = σmax·z (its
 * init_noise_sigma is σmax, so the start is scaled by σmax whatever sigmas[0] is), then denoise at each σ_i and
 * re-noise to the next level √(σ_{i+1}² − σmin²) (σ_{i+1} clamped to [σmin, σmax]). Returns the last x0 estimate
 * in the data range [−1, 1]; toUnitPixels() maps it to [0, 1].
 */
export function sampleConsistencyModel(net: CmNetwork, options: CmSampleOptions): tf.Tensor4D {
  const { sigmas, shape, classLabels, clipDenoised = true, schedule = OPENAI_CM_SCHEDULE } = options;
  if (sigmas.length === 0) throw new RangeError("sampling needs at least one noise level");
  sigmas.forEach((sigma, i) => {
    if (!(sigma > 0)) throw new RangeError(`noise level ${sigma} must be positive`);
    if (i > 0 && !(sigma < sigmas[i - 1])) throw new RangeError(`noise levels must decrease: ${sigmas.join(", ")}`);
  });
  const noise = options.noise ?? seededNormalNoise(options.seed ?? 0);
  const start = noise(shape);
  let x = tf.tidy(() => tf.mul(start, schedule.sigmaMax) as tf.Tensor4D);
  start.dispose();
  let denoised: tf.Tensor4D | null = null;
  try {
    for (let i = 0; i < sigmas.length; i++) {
      denoised = consistencyDenoise(net, x, sigmas[i], classLabels, { clip: clipDenoised, schedule });
      x.dispose();
      options.onStep?.(i, denoised);
      if (i === sigmas.length - 1) break;
      const next = Math.min(Math.max(sigmas[i + 1], schedule.sigmaMin), schedule.sigmaMax);
      const z = noise(shape);
      const level = Math.sqrt(next ** 2 - schedule.sigmaMin ** 2);
      const current: tf.Tensor4D = denoised;
      x = tf.tidy(() => tf.add(current, tf.mul(z, level)) as tf.Tensor4D);
      z.dispose();
      current.dispose();
      denoised = null;
    }
    return denoised!;
  } catch (error) {
    if (!x.isDisposed) x.dispose();
    if (denoised && !denoised.isDisposed) denoised.dispose();
    throw error;
  }
}

/** Data range [−1, 1] → pixel range [0, 1], clamped (the pipeline's postprocessing: x/2 + 0.5). */
export function toUnitPixels(x: tf.Tensor): tf.Tensor {
  return tf.tidy(() => tf.clipByValue(tf.add(tf.mul(x, 0.5), 0.5), 0, 1));
}

/**
 * The same noisy image in sCM's TrigFlow coordinates (sCM paper App. B.2, Eq. 30): with σ = σd·tan t,
 *   t = arctan(σ/σd),   x_t = cos t · x_σ
 * because cos t·(x0 + σ·ε) = cos t·x0 + sin t·(σd·ε), TrigFlow's x_t with noise z = σd·ε ~ N(0, σd² I).
 * EDM's scalings without the σmin shift become TrigFlow's: c_skip = cos²t, c_in = cos t/σd, c_out = σd sin t
 * (the network's sign is flipped: F_TrigFlow = −F_EDM). σmax = 80 is t ≈ 1.5645, the CD two-step σ ≈ 1.3824 is t ≈ 1.2237.
 */
export function edmToTrigFlow(sigma: number, sigmaData = OPENAI_CM_SCHEDULE.sigmaData): { t: number; inputScale: number } {
  const t = Math.atan(sigma / sigmaData);
  return { t, inputScale: Math.cos(t) };
}
