/**
 * One training run on 2-D Gaussian-mixture data: a teacher (TrigFlow diffusion) or a consistency model
 * (sCT / sCD / discrete / ECT) trained by the shared loop of trainer.ts, with the mixture's batches and its
 * exact quality metrics. Knows nothing about pages, workers or files.
 */
import * as tf from "@tensorflow/tfjs";
import { TimeConditionedMlp } from "../nn/mlp.js";
import type { FlowNetwork } from "../nn/network.js";
import { plainAlgebra } from "../nn/algebra.js";
import { tensorOps } from "../nn/tensor-ops.js";
import { EDM_PROPOSAL, mixtureBatch } from "../objectives/diffusion.js";
import { consistencyFromNetwork, sampleMultistep } from "../trigflow/consistency-sampling.js";
import { integrate, uniformTimes, STEPPERS, velocityFromNetwork, type FlowFunction } from "../trigflow/ode-solvers.js";
import { idealConsistencyFunction, sampleMixture, type GaussianMixture } from "../trigflow/gaussian-mixture.js";
import { mixtureMetric, rmsDistance } from "./sample-metrics.js";
import { createRng, normalArray, type Rng } from "../math/rng.js";
import { quasiNormalArray, selectCoordinates } from "../math/quasi-random.js";
import { discreteTimeGrid, discreteTimeProbabilities, sampleDiscreteTimePairs } from "../objectives/discrete.js";
import { SIGMA_D, T_MAX, T_MID } from "../trigflow/trigflow.js";
import { ECT_DEFAULTS } from "../objectives/ect.js";
import type { DiagnosticsSnapshot } from "../training/diagnostics.js";
import type { ToyRunConfig } from "./toy-run-config.js";
import { initializeFromTeacher, NonFiniteLossError, Trainer, type Objective, type StepReport, type TrainingBatch } from "../training/trainer.js";

/** The teacher (TrigFlow diffusion), sCT, sCD, the discrete-time CM of App. E, and the ECT baseline. */
export type ToyObjective = Objective;
export { NonFiniteLossError };
export type ToyStepReport = StepReport;


/**
 * The noise every quality measurement starts from: n points of a scrambled 2·dim-dimensional Sobol sequence
 * through Φ⁻¹ (quasi-random.ts), scaled to N(0, σd² I); the first dim coordinates are z at t_max, the others the
 * fresh noise of a second step. Quasi-random noise removes most of the metric's sampling noise: for the ring
 * preset at n = 2048, 100-NFE samples of the exact ODE score 0.0035–0.0046 from it and 0.021–0.029 from i.i.d. noise (4 seeds). Use
 * n = 2^m (the net property). Different seeds are independent replicates.
 */
export function evaluationNoise(n: number, dim: number, seed: number): { first: Float64Array; second: Float64Array } {
  const z = quasiNormalArray(n, 2 * dim, seed, SIGMA_D);
  return { first: selectCoordinates(z, 2 * dim, 0, dim), second: selectCoordinates(z, 2 * dim, dim, 2 * dim) };
}

export class ToyRun {
  readonly net: TimeConditionedMlp;
  /** the EMA's network; read it through `ema`, which writes the latest average into it first */
  private readonly emaNetwork: TimeConditionedMlp;
  private readonly trainer: Trainer;
  private readonly rng: Rng;
  private readonly grid: number[];
  private readonly gridProbabilities: number[];

  /**
   * @param teacher the teacher's EMA network (required for sCD). Consistency models start from the teacher's
   * weights when one is given (App. G.2), with the logvar head reset to zero.
   * @param start the network whose weights a consistency model starts from instead, e.g. a trained diffusion
   * model when the teacher is the analytic F* (exact-teacher.ts), which has no weights.
   */
  constructor(readonly mixture: GaussianMixture, readonly config: ToyRunConfig, readonly teacher?: FlowNetwork, start: FlowNetwork | undefined = teacher) {
    this.net = new TimeConditionedMlp({ ...config.network, dataDim: mixture.dim, seed: config.seed });
    this.emaNetwork = new TimeConditionedMlp({ ...config.network, dataDim: mixture.dim, seed: config.seed });
    if (start && config.objective !== "teacher" && start.params.names().length > 0) initializeFromTeacher(this.net, start);
    this.trainer = new Trainer(this.net, this.emaNetwork, config, teacher);
    this.rng = createRng(config.seed + 1);
    this.grid = discreteTimeGrid(config.discreteSteps);
    this.gridProbabilities = discreteTimeProbabilities(this.grid, config.proposal);
  }

  /** The EMA network (App. G.2), with the average of every step so far. */
  get ema(): TimeConditionedMlp {
    this.trainer.syncEma();
    return this.emaNetwork;
  }

  get iteration(): number {
    return this.trainer.iteration;
  }

  private batch(): TrainingBatch {
    const { batch, objective } = this.config;
    const proposal = objective === "teacher" ? EDM_PROPOSAL : this.config.proposal;
    const data = mixtureBatch(this.mixture, batch, this.rng, proposal);
    if (objective === "ect") {
      const { pMean, pStd } = (this.config.ect ?? ECT_DEFAULTS).proposal;
      return { ...data, sigmas: Array.from({ length: batch }, () => Math.exp(pMean + pStd * this.rng.normal())) };
    }
    if (objective !== "discrete") return data;
    // The discrete-time CM trains on grid pairs (t_i, t_{i−1}) instead of the continuous proposal.
    data.t.dispose();
    const pairs = sampleDiscreteTimePairs(this.rng, this.grid, this.gridProbabilities, batch);
    return { x0: data.x0, z: data.z, t: tf.tensor1d(pairs.t), tPrime: tf.tensor1d(pairs.tPrime), times: Float32Array.from(pairs.t) };
  }

  step(): Promise<ToyStepReport> {
    return this.trainer.step(this.batch());
  }

  /** Loss, gradient norm and tangent statistics accumulated since the last call (training/diagnostics.ts). */
  takeDiagnostics(): DiagnosticsSnapshot {
    return this.trainer.takeDiagnostics();
  }

  /** For a learning-rate schedule: applies from the next step on. */
  setLearningRate(learningRate: number): void {
    this.trainer.setLearningRate(learningRate);
  }

  /** The EMA network as a function of (u, scalar t) for a batch of n rows, as the solvers and samplers take it. */
  private emaFunction(n: number): FlowFunction<tf.Tensor> {
    return (u, t) => this.ema.apply(plainAlgebra, u, tf.fill([n], t));
  }

  /**
   * Sliced W₂ of 1- and 2-step consistency samples (EMA weights) to the true mixture, both from the same
   * quasi-random evaluation noise (evaluationNoise), with the samples they were measured on.
   */
  async consistencyQuality(n: number, seed: number): Promise<{ oneStep: number; twoStep: number; samples: { oneStep: Float64Array; twoStep: Float64Array } }> {
    const { first, second } = evaluationNoise(n, this.mixture.dim, seed);
    const [one, two] = await Promise.all([this.sampleConsistencyFrom(first, null), this.sampleConsistencyFrom(first, second)]);
    return { oneStep: this.distanceToData(one), twoStep: this.distanceToData(two), samples: { oneStep: one, twoStep: two } };
  }

  /** Consistency sampling with the EMA weights: 1 step at t_max, 2 steps adding t_mid = 1.1. */
  sampleConsistency(n: number, steps: 1 | 2, seed: number): Promise<Float64Array> {
    const rng = createRng(seed);
    const z = normalArray(rng, n * this.mixture.dim, SIGMA_D);
    return this.sampleConsistencyFrom(z, steps === 2 ? normalArray(rng, n * this.mixture.dim, SIGMA_D) : null);
  }

  /**
   * Consistency sampling from given noise (flat n·dim arrays of N(0, σd²) values): f at t_max from z, then, when
   * `second` is given, re-noised with it at t_mid and f applied again. For comparisons that share noise.
   */
  async sampleConsistencyFrom(z: ArrayLike<number>, second: ArrayLike<number> | null, tMid = T_MID): Promise<Float64Array> {
    const n = z.length / this.mixture.dim;
    const samples = tf.tidy(() => {
      const f = consistencyFromNetwork(tensorOps, this.emaFunction(n));
      return sampleMultistep(tensorOps, f, this.rows(z), second ? [T_MAX, tMid] : [T_MAX], () => this.rows(second!));
    });
    return readAndDispose(samples);
  }

  /** Solve the EMA network's PF-ODE from t_max with `steps` Heun steps (2·steps evaluations): the teacher's sampler. */
  sampleOde(n: number, steps: number, seed: number): Promise<Float64Array> {
    return this.sampleOdeFrom(normalArray(createRng(seed), n * this.mixture.dim, SIGMA_D), steps);
  }

  /** The same from given noise z at t_max (a flat n·dim array). */
  async sampleOdeFrom(z: ArrayLike<number>, steps: number): Promise<Float64Array> {
    const velocity = velocityFromNetwork(tensorOps, this.emaFunction(z.length / this.mixture.dim));
    const times = uniformTimes(T_MAX, 0, steps);
    // One tidy per step, not one around the whole solve: a solve keeps every network activation of all its
    // steps otherwise (2,048 points × width 128 × 100 evaluations overran WebAssembly's 4 GB heap).
    let state: tf.Tensor = this.rows(z);
    for (let i = 1; i < times.length; i++) {
      const previous = state;
      state = tf.tidy(() => integrate(tensorOps, velocity, previous, [times[i - 1], times[i]], STEPPERS.heun));
      previous.dispose();
    }
    return readAndDispose(state);
  }

  /** Flat points as an [n, dim] float32 tensor. */
  private rows(points: ArrayLike<number>): tf.Tensor2D {
    return tf.tensor2d(Float32Array.from(points), [points.length / this.mixture.dim, this.mixture.dim]);
  }

  /**
   * Consistency error at each time: RMS of f_θ(x_t, t) − f*(x_t, t) over n points x_t of the true marginal,
   * with f* the exact ideal consistency function (the analytic ODE solved to t = 0) and f_θ the EMA model.
   */
  async consistencyError(times: readonly number[], n: number, seed: number): Promise<{ t: number; error: number }[]> {
    const rng = createRng(seed);
    const ideal = idealConsistencyFunction(this.mixture, SIGMA_D, { rtol: 1e-6, atol: 1e-8 });
    const dim = this.mixture.dim;
    // Draw every time's points first (the same random stream as before), then read all model outputs at once.
    const points = times.map((t) => {
      const x0 = sampleMixture(this.mixture, n, rng).points;
      const z = normalArray(rng, n * dim, SIGMA_D);
      return x0.map((v, i) => Math.cos(t) * v + Math.sin(t) * z[i]);
    });
    const outputs = times.map((t, i) =>
      tf.tidy(() => consistencyFromNetwork(tensorOps, this.emaFunction(n))(tf.tensor2d(Float32Array.from(points[i]), [n, dim]), t)),
    );
    const models = await Promise.all(outputs.map(readAndDispose));
    return times.map((t, i) => ({ t, error: rmsDistance(models[i], ideal(points[i], t), dim) }));
  }

  /** The exact sliced W₂ of samples to the true mixture (sample-metrics.ts): deterministic, no reference draw. */
  distanceToData(samples: Float64Array): number {
    return mixtureMetric(this.mixture, samples.length / this.mixture.dim).distance(samples);
  }

  dispose(): void {
    this.trainer.dispose();
    this.net.dispose();
    this.emaNetwork.dispose();
  }
}

/** Read a tensor without blocking (never dataSync: on WebGPU in a browser it returns zeros) and free it. */
async function readAndDispose(x: tf.Tensor): Promise<Float64Array> {
  try {
    return Float64Array.from(await x.data());
  } finally {
    x.dispose();
  }
}
