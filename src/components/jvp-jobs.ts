/**
 * The JVP page's computations as worker jobs (worker-jobs.ts JOBS): async generators that yield progress and
 * return plain rows for plotting. The page only plots; every TF.js op of the page runs here, in the jobs Web
 * Worker, and the same functions run in Node for the tests. Parameters are plain numbers (JSON), so the page
 * can publish exactly what it asked for and a test can recompute it on the CPU backend.
 */
import * as tf from "@tensorflow/tfjs";
import { TimeConditionedMlp } from "./nn/mlp.js";
import type { CNoiseKind, TimeEmbeddingConfig } from "./nn/layers.js";
import { trainDiffusionOnMixture } from "./diffusion-training.js";
import { finiteDifferenceErrors, halfPrecisionJvpTerm, timeDerivativeProfile, type HalfPrecisionRow, type JvpForm } from "./jvp-experiments.js";
import { createMixture, sampleMixture, type GaussianMixture } from "./gaussian-mixture.js";
import { createRng, normalArray } from "./rng.js";
import { SIGMA_D } from "./trigflow.js";

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
      const net = new TimeConditionedMlp({ ...params.network, cNoise, timeEmbedding: params.timeEmbedding, outputGain: 1 });
      try {
        for await (const { step, loss } of trainDiffusionOnMixture(net, mixture, { steps: params.steps, batch: params.batch, reportEvery: 20, seed: 1 })) {
          if (shouldStop()) return rows;
          yield { cNoise, step, steps: params.steps, loss };
        }
        rows.push(...(await timeDerivativeProfile(net, inputs, params.times)).map((r) => ({ ...r, cNoise })));
      } finally {
        net.dispose();
      }
    }
    return rows;
  } finally {
    inputs.dispose();
  }
}
