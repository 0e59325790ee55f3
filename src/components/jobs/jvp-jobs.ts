/**
 * The JVP page's network measurements, and the same as worker jobs (registry.ts): where sin t·∂F/∂t
 * is large, what half precision does to the naive and the rearranged JVP, and how finite differences trade
 * truncation for round-off. The jobs are async generators that yield progress and return plain rows for
 * plotting. The page only plots; every TF.js op of the page runs here, in the jobs Web Worker, and the same
 * functions run in Node for the tests. Parameters are plain numbers (JSON), so the page can publish exactly
 * what it asked for and a test can recompute it on the CPU backend.
 *
 * Results are read with `await tensor.data()`, several at once, never with dataSync(): on WebGPU a synchronous
 * read goes through a canvas, which in a worker or on SwiftShader returns zeros and loses the device.
 */
import * as tf from "@tensorflow/tfjs";
import { TimeConditionedMlp } from "../nn/mlp.js";
import type { CNoiseKind, TimeEmbeddingConfig } from "../nn/layers.js";
import { ToyRun } from "../toy/toy-run.js";
import { DEFAULT_TOY_RUN } from "../toy/toy-run-config.js";
import { dual, dualAlgebra } from "../nn/algebra.js";
import { halfPrecision, roundToHalf } from "../nn/half-precision.js";
import { finiteDifferenceJvp, jvp, type FlowNetwork } from "../nn/network.js";
import { createMixture, sampleMixture, type GaussianMixture } from "../trigflow/gaussian-mixture.js";
import { createRng, normalArray } from "../math/rng.js";
import { SIGMA_D } from "../trigflow/trigflow.js";

/** Repeat a batch [n, …] once per time: rows ordered time-major, with the matching [n·T] time vector. */
function tileOverTimes(x: tf.Tensor, times: readonly number[]): { rows: tf.Tensor; t: tf.Tensor } {
  const n = x.shape[0];
  return {
    rows: tf.concat(times.map(() => x), 0),
    t: tf.tensor1d(times.flatMap((t) => new Array<number>(n).fill(t))),
  };
}

/** Read several tensors in parallel (one wait for the GPU, not one per tensor), then dispose them. */
export async function readAndDispose(tensors: readonly tf.Tensor[]): Promise<Float32Array[]> {
  try {
    return (await Promise.all(tensors.map((x) => x.data()))) as Float32Array[];
  } finally {
    tf.dispose(tensors as tf.Tensor[]);
  }
}

/**
 * RMS over a batch of u of sin t·∂F/∂t, the term the paper blames for unstable training (Eq. 7): one JVP
 * with tangent (u̇, ṫ) = (0, 1) per row, all times in one batch.
 */
export async function timeDerivativeProfile(net: FlowNetwork, u: tf.Tensor, times: readonly number[]): Promise<{ t: number; value: number }[]> {
  const rmsPerTime = tf.tidy(() => {
    const { rows, t } = tileOverTimes(u, times);
    const { tangent } = jvp(net, rows, t, tf.zerosLike(rows), tf.onesLike(t));
    return tf.sqrt(tf.mean(tf.square(tf.reshape(tangent, [times.length, -1])), 1));
  });
  const [rms] = await readAndDispose([rmsPerTime]);
  return times.map((t, i) => ({ t, value: Math.sin(t) * rms[i] }));
}

export type JvpForm = "naive" | "rearranged";

export interface HalfPrecisionRow {
  t: number;
  form: JvpForm;
  /** largest |JVP output| over the batch in fp16 (Infinity once it overflowed) */
  maxJvp: number;
  /** largest |σd·cos t·sin t·dF/dt| over the batch, as computed in fp16 */
  maxTerm: number;
  /** the same term computed in float32, for reference */
  maxTermFloat32: number;
  /** fraction of entries of the term that are finite */
  finiteFraction: number;
}

/**
 * The JVP term of the sCM tangent, σd·cos t·sin t·dF/dt (Alg. 1), computed entirely in simulated fp16
 * along sCT's path (x_t = cos t·x0 + sin t·z, dx/dt = cos t·z − sin t·x0), in two forms (§5.1):
 * - naive: tangent (dx/dt/σd, 1) gives dF/dt, multiplied by σd cos t sin t afterwards;
 * - rearranged: tangent (cos t sin t·dx/dt/σd, cos t sin t) gives cos t sin t·dF/dt directly.
 * The two are equal in exact arithmetic; in fp16 the naive intermediate can exceed 65504 and overflow.
 */
export async function halfPrecisionJvpTerm(net: FlowNetwork, x0: tf.Tensor, z: tf.Tensor, times: readonly number[], form: JvpForm, sigmaD = SIGMA_D): Promise<HalfPrecisionRow[]> {
  const n = x0.shape[0];
  const perRow = (f: (t: number) => number) => tf.tensor(times.flatMap((t) => new Array<number>(n).fill(f(t))), [n * times.length, ...new Array(x0.rank - 1).fill(1)]);
  const results = tf.tidy(() => {
    const { rows: x0s, t } = tileOverTimes(x0, times);
    const { rows: zs } = tileOverTimes(z, times);
    const cos = perRow(Math.cos);
    const sin = perRow(Math.sin);
    const cs = tf.mul(cos, sin);
    const xt = tf.add(tf.mul(cos, x0s), tf.mul(sin, zs));
    const dxdt = tf.sub(tf.mul(cos, zs), tf.mul(sin, x0s));
    const u = tf.div(xt, sigmaD);
    const uDot = form === "naive" ? tf.div(dxdt, sigmaD) : tf.div(tf.mul(cs, dxdt), sigmaD);
    const tDot = form === "naive" ? tf.onesLike(t) : tf.reshape(cs, [-1]);
    const half = net.apply(halfPrecision(dualAlgebra), dual(roundToHalf(u), roundToHalf(uDot)), dual(roundToHalf(t), roundToHalf(tDot)));
    const full = net.apply(dualAlgebra, dual(u, uDot), dual(t, tDot));
    // Finish the term in fp16 as well: naive multiplies by σd·cos t·sin t now, rearranged only by σd.
    const halfTerm = form === "naive" ? roundToHalf(tf.mul(roundToHalf(tf.mul(cs, sigmaD)), half.tangent)) : roundToHalf(tf.mul(half.tangent, sigmaD));
    const fullTerm = form === "naive" ? tf.mul(tf.mul(cs, sigmaD), full.tangent) : tf.mul(full.tangent, sigmaD);
    const perTime = (x: tf.Tensor) => tf.reshape(x, [times.length, -1]);
    const finite = tf.cast(tf.isFinite(perTime(halfTerm)), "float32");
    // NaN-safe maxima: a non-finite entry counts as Infinity.
    const maxAbs = (x: tf.Tensor) => tf.max(tf.where(tf.isFinite(perTime(x)), tf.abs(perTime(x)), tf.fill(perTime(x).shape, Infinity)), 1);
    return [maxAbs(half.tangent), maxAbs(halfTerm), tf.max(tf.abs(perTime(fullTerm)), 1), tf.mean(finite, 1)];
  });
  const [maxJvp, maxTerm, maxTermFloat32, finiteFraction] = await readAndDispose(results);
  return times.map((t, i) => ({ t, form, maxJvp: maxJvp[i], maxTerm: maxTerm[i], maxTermFloat32: maxTermFloat32[i], finiteFraction: finiteFraction[i] }));
}

/**
 * Relative error ‖FD(ε) − J‖/‖J‖ of the central finite-difference JVP against the exact dual JVP, for each
 * ε. In float32 this is U-shaped: truncation ∝ ε² on the right, round-off ∝ 1/ε on the left.
 */
export async function finiteDifferenceErrors(net: FlowNetwork, u: tf.Tensor, t: tf.Tensor, uDot: tf.Tensor, tDot: tf.Tensor, epsilons: readonly number[]): Promise<{ eps: number; error: number }[]> {
  // ‖J‖ first, then ‖FD(ε) − J‖ for every ε, in one vector and one read.
  const norms = tf.tidy(() => {
    const exact = jvp(net, u, t, uDot, tDot).tangent;
    return tf.stack([tf.norm(exact), ...epsilons.map((eps) => tf.norm(tf.sub(finiteDifferenceJvp(net, u, t, uDot, tDot, eps), exact)))]);
  });
  const [[norm, ...errors]] = await readAndDispose([norms]);
  return epsilons.map((eps, i) => ({ eps, error: errors[i] / norm }));
}

type MixtureSpec = Pick<GaussianMixture, "means" | "stds" | "weights">;

/** The page's small time-conditioned MLP (2 blocks of 64 keeps every figure quick even on the CPU backend). */
export interface DemoNetwork {
  hidden: number;
  blocks: number;
  seed: number;
  timeEmbedding: TimeEmbeddingConfig;
}

function demoNet(network: DemoNetwork, cNoise: CNoiseKind): TimeConditionedMlp {
  return new TimeConditionedMlp({ ...network, cNoise, outputGain: 1 });
}

/** What every job of this page returns: its rows and the TF.js backend that computed them. */
export interface JvpJobResult<Row> {
  backend: string;
  rows: Row[];
}

/** Progress of a job made of a few parts (one network, one form, …). */
export interface PartProgress {
  done: number;
  of: number;
}

export interface ProfileParams {
  cNoiseKinds: CNoiseKind[];
  network: DemoNetwork;
  /** inputs u (flat, n·2) and the times at which to measure sin t·∂F/∂t */
  inputs: number[];
  times: number[];
}

export interface ProfileRow {
  cNoise: CNoiseKind;
  t: number;
  value: number;
}

/** sin t·∂F/∂t (RMS over the inputs) of a freshly initialised network per c_noise choice (Eq. 7, §4.1). */
export async function* profilesJob(params: ProfileParams, shouldStop: () => boolean = () => false): AsyncGenerator<PartProgress, JvpJobResult<ProfileRow>> {
  const rows: ProfileRow[] = [];
  const inputs = tf.tensor2d(params.inputs, [params.inputs.length / 2, 2]);
  try {
    for (const [i, cNoise] of params.cNoiseKinds.entries()) {
      if (shouldStop()) break;
      const net = demoNet(params.network, cNoise);
      try {
        rows.push(...(await timeDerivativeProfile(net, inputs, params.times)).map((r) => ({ ...r, cNoise })));
      } finally {
        net.dispose();
      }
      yield { done: i + 1, of: params.cNoiseKinds.length };
    }
    return { backend: tf.getBackend(), rows };
  } finally {
    inputs.dispose();
  }
}

export interface HalfPrecisionParams {
  mixture: MixtureSpec;
  /** data points x0 drawn from the mixture, and noise z, from one seeded generator */
  samples: number;
  dataSeed: number;
  cNoise: CNoiseKind;
  network: DemoNetwork;
  times: number[];
}

/**
 * The sCM tangent's JVP term in simulated fp16, naive and rearranged (§5.1), along sCT paths
 * x_t = cos t·x0 + sin t·z of data drawn from the mixture (its own weights and spreads: sampleMixture).
 */
export async function* halfPrecisionJob(params: HalfPrecisionParams, shouldStop: () => boolean = () => false): AsyncGenerator<PartProgress, JvpJobResult<HalfPrecisionRow>> {
  const mixture = createMixture(params.mixture.means, params.mixture.stds, params.mixture.weights);
  const rng = createRng(params.dataSeed);
  const n = params.samples;
  const x0 = tf.tensor2d(Float32Array.from(sampleMixture(mixture, n, rng).points), [n, mixture.dim]);
  const z = tf.tensor2d(Float32Array.from(normalArray(rng, n * mixture.dim, SIGMA_D)), [n, mixture.dim]);
  const net = demoNet(params.network, params.cNoise);
  const forms: JvpForm[] = ["naive", "rearranged"];
  const rows: HalfPrecisionRow[] = [];
  try {
    for (const [i, form] of forms.entries()) {
      if (shouldStop()) break;
      rows.push(...(await halfPrecisionJvpTerm(net, x0, z, params.times, form)));
      yield { done: i + 1, of: forms.length };
    }
    return { backend: tf.getBackend(), rows };
  } finally {
    net.dispose();
    tf.dispose([x0, z]);
  }
}

export interface FiniteDifferenceParams {
  cNoise: CNoiseKind;
  network: DemoNetwork;
  /** the time of every row, how many rows, and the seeds of the inputs u and of the tangent u̇ */
  t: number;
  points: number;
  inputSeed: number;
  tangentSeed: number;
  epsilons: number[];
}

export interface FiniteDifferenceRow {
  eps: number;
  error: number;
}

/** Relative error of the central finite-difference JVP against the exact one, for each ε (U-shaped). */
// A generator without a yield: one short computation, still a job so that it runs in the worker.
// eslint-disable-next-line require-yield
export async function* finiteDifferenceJob(params: FiniteDifferenceParams): AsyncGenerator<never, JvpJobResult<FiniteDifferenceRow>> {
  const n = params.points;
  const net = demoNet(params.network, params.cNoise);
  const u = tf.tensor2d(Float32Array.from(normalArray(createRng(params.inputSeed), 2 * n)), [n, 2]);
  const uDot = tf.tensor2d(Float32Array.from(normalArray(createRng(params.tangentSeed), 2 * n)), [n, 2]);
  const t = tf.fill([n], params.t);
  const tDot = tf.onesLike(t);
  try {
    return { backend: tf.getBackend(), rows: await finiteDifferenceErrors(net, u, t, uDot, tDot, params.epsilons) };
  } finally {
    net.dispose();
    tf.dispose([u, uDot, t, tDot]);
  }
}

export interface TrainedProfileParams {
  mixture: MixtureSpec;
  cNoiseKinds: CNoiseKind[];
  timeEmbedding: TimeEmbeddingConfig;
  network: { hidden: number; blocks: number; seed: number };
  steps: number;
  batch: number;
  /** inputs u (flat, n·2) and times at which to measure sin t·∂F/∂t */
  inputs: number[];
  times: number[];
}

export interface TrainedProfileRow {
  cNoise: CNoiseKind;
  t: number;
  value: number;
}

export interface TrainingProgress {
  cNoise: CNoiseKind;
  step: number;
  steps: number;
  loss: number;
  /** every 20th step and the last: the reports a page shows (the others let the worker pause between any two steps) */
  milestone: boolean;
}

/**
 * Train one diffusion MLP per c_noise choice on the mixture, then measure its sin t·∂F/∂t profile (the JVP
 * page's "trained" curves). A stop returns the profiles of the networks finished so far.
 */
export async function* trainedProfilesJob(params: TrainedProfileParams, shouldStop: () => boolean = () => false): AsyncGenerator<TrainingProgress, TrainedProfileRow[]> {
  const mixture = createMixture(params.mixture.means, params.mixture.stds, params.mixture.weights);
  const rows: TrainedProfileRow[] = [];
  const inputs = tf.tensor2d(params.inputs, [params.inputs.length / 2, 2]);
  try {
    for (const cNoise of params.cNoiseKinds) {
      // A diffusion teacher, trained by the same loop as every other run (Adam at 1e-3, EDM's time proposal);
      // the profile is of the trained network itself, not its EMA.
      const { seed, ...network } = params.network;
      const run = new ToyRun(mixture, {
        ...DEFAULT_TOY_RUN,
        objective: "teacher",
        network: { ...network, cNoise, timeEmbedding: params.timeEmbedding, outputGain: 1 },
        batch: params.batch,
        learningRate: 1e-3,
        optimizer: "adam",
        seed,
      });
      try {
        while (run.iteration < params.steps) {
          const { iteration, loss } = await run.step();
          if (shouldStop()) return rows;
          // A report after every step: the worker pauses (serve-job.ts) only between two reports, and a page
          // running several of these jobs pauses them all at once. The worker posts milestones always, the
          // others at most every 100 ms.
          yield { cNoise, step: iteration, steps: params.steps, loss, milestone: iteration % 20 === 0 || iteration === params.steps };
        }
        rows.push(...(await timeDerivativeProfile(run.net, inputs, params.times)).map((r) => ({ ...r, cNoise })));
      } finally {
        run.dispose();
      }
    }
    return rows;
  } finally {
    inputs.dispose();
  }
}
