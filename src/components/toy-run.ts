/**
 * One training run on 2-D Gaussian-mixture data: a teacher (TrigFlow diffusion) or a consistency model
 * (sCT / sCD), with Adam, an EMA of the weights for sampling, exact quality metrics, and a guard that stops
 * on a non-finite loss and restores the last good weights. Knows nothing about pages, workers or files.
 */
import * as tf from "@tensorflow/tfjs";
import { TimeConditionedMlp, type MlpConfig } from "./nn/mlp.js";
import type { FlowNetwork } from "./nn/network.js";
import type { NamedArray } from "./nn/parameters.js";
import { plainAlgebra } from "./nn/algebra.js";
import { tensorOps } from "./tensor-ops.js";
import { diffusionLoss, EDM_PROPOSAL, mixtureBatch } from "./diffusion-training.js";
import { scmTrainingStep, type ScmStepConfig } from "./scm-training.js";
import { copyParameters, emaDecayFromHalfLife, updateEma } from "./ema.js";
import { consistencyFromNetwork, sampleMultistep } from "./consistency-sampling.js";
import { integrate, uniformTimes, STEPPERS, velocityFromNetwork, type FlowFunction } from "./ode-solvers.js";
import { idealConsistencyFunction, sampleMixture, type GaussianMixture } from "./gaussian-mixture.js";
import { rmsDistance } from "./sample-metrics.js";
import { createRng, normalArray, type Rng } from "./rng.js";
import { SCM_CIFAR10_PROPOSAL, type TimeProposal } from "./time-proposal.js";
import { slicedWasserstein } from "./sample-metrics.js";
import { RAdamOptimizer } from "./radam.js";
import { discreteTimeGrid, discreteTimeProbabilities, sampleDiscreteTimePairs } from "./discrete-consistency.js";
import { SIGMA_D, T_MAX, T_MID } from "./trigflow.js";
import { minimizeMeasuringGradient, type MeasuredStep } from "./measured-step.js";
import { ECT_DEFAULTS, ectLossClosure, type EctConfig } from "./ect-objective.js";
import { TrainingDiagnostics, type DiagnosticsSnapshot } from "./training-diagnostics.js";

/** The teacher (TrigFlow diffusion), sCT, sCD, the discrete-time CM of App. E, and the ECT baseline. */
export type ToyObjective = "teacher" | "sct" | "scd" | "discrete" | "ect";

export interface ToyRunConfig {
  objective: ToyObjective;
  network: Partial<MlpConfig>;
  batch: number;
  learningRate: number;
  /** Adam, or RAdam as the paper uses for consistency models (App. G.2); both with β = (0.9, 0.99) */
  optimizer: "adam" | "radam";
  proposal: TimeProposal;
  /** sCT/sCD settings (ignored by the teacher) */
  scm: Omit<ScmStepConfig, "objective" | "teacher">;
  /** EMA half-life in training samples */
  emaHalfLife: number;
  /** N, the number of grid intervals of the discrete-time objective */
  discreteSteps: number;
  /** settings of the ECT baseline (defaults: ECT's own) */
  ect?: EctConfig;
  seed: number;
}

export const DEFAULT_TOY_RUN: ToyRunConfig = {
  objective: "sct",
  network: { hidden: 64, blocks: 2, groups: 8, timeEmbedding: { kind: "positional", dim: 32 } },
  batch: 256,
  learningRate: 1e-3,
  optimizer: "adam",
  proposal: SCM_CIFAR10_PROPOSAL,
  scm: { normalization: { kind: "l2", c: 0.1 }, warmupIterations: 200, adaptiveWeighting: true },
  emaHalfLife: 5000,
  discreteSteps: 64,
  seed: 0,
};

/** Thrown when the loss or the gradient stops being finite; the run's weights are back at the last good snapshot. */
export class NonFiniteLossError extends Error {
  constructor(readonly iteration: number, readonly value: number, readonly quantity: "loss" | "gradient norm" = "loss") {
    super(`training stopped at step ${iteration}: the ${quantity} became ${value}; the last good weights were restored`);
  }
}

export interface ToyStepReport {
  iteration: number;
  loss: number;
  /** mean ‖g‖ before normalisation (sCT, sCD and discrete objectives only) */
  meanTangentNorm: number | null;
  /** ‖∇_θ L‖₂ of this step */
  gradientNorm: number;
}

export class ToyRun {
  readonly net: TimeConditionedMlp;
  readonly ema: TimeConditionedMlp;
  iteration = 0;
  private readonly optimizer: tf.Optimizer;
  private readonly rng: Rng;
  private readonly emaDecay: number;
  private lastGood: { net: Record<string, NamedArray>; ema: Record<string, NamedArray> } | null = null;
  private readonly grid: number[];
  private readonly gridProbabilities: number[];
  private readonly diagnostics = new TrainingDiagnostics();

  /**
   * @param teacher the teacher's EMA network (required for sCD). Consistency models start from the teacher's
   * weights when one is given (App. G.2), with the logvar head reset to zero.
   */
  constructor(readonly mixture: GaussianMixture, readonly config: ToyRunConfig, readonly teacher?: FlowNetwork) {
    if ((config.objective === "scd" || config.objective === "discrete") && !teacher) throw new Error(`${config.objective} needs a teacher`);
    this.net = new TimeConditionedMlp({ ...config.network, dataDim: mixture.dim, seed: config.seed });
    this.ema = new TimeConditionedMlp({ ...config.network, dataDim: mixture.dim, seed: config.seed });
    if (teacher && config.objective !== "teacher" && teacher.params.names().length > 0) {
      copyParameters(this.net.params, teacher.params);
      tf.tidy(() => this.net.params.names().filter((n) => n.startsWith("logvar")).forEach((n) => this.net.params.get(n).assign(tf.zerosLike(this.net.params.get(n)))));
    }
    copyParameters(this.ema.params, this.net.params);
    this.optimizer = config.optimizer === "radam" ? new RAdamOptimizer(config.learningRate, 0.9, 0.99) : tf.train.adam(config.learningRate, 0.9, 0.99);
    this.rng = createRng(config.seed + 1);
    this.emaDecay = emaDecayFromHalfLife(config.emaHalfLife, config.batch);
    this.grid = discreteTimeGrid(config.discreteSteps);
    this.gridProbabilities = discreteTimeProbabilities(this.grid, config.proposal);
  }

  private batch(): { x0: tf.Tensor; z: tf.Tensor; t: tf.Tensor; tPrime?: tf.Tensor } {
    const { batch } = this.config;
    const proposal = this.config.objective === "teacher" ? EDM_PROPOSAL : this.config.proposal;
    const data = mixtureBatch(this.mixture, batch, this.rng, proposal);
    if (this.config.objective !== "discrete") return data;
    // The discrete-time CM trains on grid pairs (t_i, t_{i−1}) instead of the continuous proposal.
    data.t.dispose();
    const pairs = sampleDiscreteTimePairs(this.rng, this.grid, this.gridProbabilities, batch);
    return { x0: data.x0, z: data.z, t: tf.tensor1d(pairs.t), tPrime: tf.tensor1d(pairs.tPrime) };
  }

  async step(): Promise<ToyStepReport> {
    if (this.iteration % 50 === 0) this.lastGood = { net: await this.net.params.save(), ema: await this.ema.params.save() };
    const seed = this.config.seed * 1_000_003 + this.iteration;
    const { loss, gradientNorm, tangentNorms, times } = this.objectiveStep(seed);
    const value = (await loss.data())[0];
    const gradient = (await gradientNorm.data())[0];
    const norms = tangentNorms ? Float64Array.from(await tangentNorms.data()) : undefined;
    tf.dispose([loss, gradientNorm, tangentNorms ?? []]);
    if (!Number.isFinite(value) || !Number.isFinite(gradient)) {
      if (this.lastGood) {
        this.net.params.load(this.lastGood.net);
        this.ema.params.load(this.lastGood.ema);
      }
      throw Number.isFinite(value) ? new NonFiniteLossError(this.iteration, gradient, "gradient norm") : new NonFiniteLossError(this.iteration, value);
    }
    updateEma(this.ema.params, this.net.params, this.emaDecay);
    this.diagnostics.record(value, gradient, times, norms);
    this.iteration++;
    const meanTangentNorm = norms ? norms.reduce((a, b) => a + b, 0) / norms.length : null;
    return { iteration: this.iteration, loss: value, meanTangentNorm, gradientNorm: gradient };
  }

  /** Loss, gradient norm and tangent statistics accumulated since the last call (training-diagnostics.ts). */
  takeDiagnostics(): DiagnosticsSnapshot {
    return this.diagnostics.take();
  }

  /** One optimiser step of the configured objective. */
  private objectiveStep(seed: number): MeasuredStep & { tangentNorms?: tf.Tensor1D; times?: Float32Array } {
    const { objective } = this.config;
    const data = this.batch();
    try {
      if (objective === "teacher") {
        const variables = this.net.params.trainableVariables((n) => n.startsWith("logvar"));
        return minimizeMeasuringGradient(this.optimizer, () => diffusionLoss(this.net, data.x0, data.z, data.t, { dropoutSeed: seed }), variables);
      }
      if (objective === "ect") {
        const ect = this.config.ect ?? ECT_DEFAULTS;
        const sigmas = Array.from({ length: this.config.batch }, () => Math.exp(ect.proposal.pMean + ect.proposal.pStd * this.rng.normal()));
        const closure = ectLossClosure(this.net, { x0: data.x0, z: data.z, sigmas }, Math.floor(this.iteration / ect.stageIterations), seed, ect);
        try {
          return minimizeMeasuringGradient(this.optimizer, closure.loss, this.net.params.trainableVariables((n) => n.startsWith("logvar")));
        } finally {
          closure.dispose();
        }
      }
      const times = data.t.dataSync() as Float32Array;
      const result = scmTrainingStep(this.net, this.optimizer, data, this.iteration, seed, { ...this.config.scm, objective, teacher: this.teacher });
      return { ...result, times };
    } finally {
      tf.dispose(Object.values(data).filter((x): x is tf.Tensor => x !== undefined));
    }
  }

  /** The EMA network as a function of (u, scalar t) for a batch of n rows, as the solvers and samplers take it. */
  private emaFunction(n: number): FlowFunction<tf.Tensor> {
    return (u, t) => this.ema.apply(plainAlgebra, u, tf.fill([n], t));
  }

  /** Sliced W₂ of 1- and 2-step consistency samples (EMA weights) against the true mixture. */
  consistencyQuality(n: number, seed: number): { oneStep: number; twoStep: number } {
    return {
      oneStep: this.distanceToData(this.sampleConsistency(n, 1, seed), seed + 1),
      twoStep: this.distanceToData(this.sampleConsistency(n, 2, seed), seed + 1),
    };
  }

  /** Consistency sampling with the EMA weights: 1 step at t_max, 2 steps adding t_mid = 1.1. */
  sampleConsistency(n: number, steps: 1 | 2, seed: number): Float64Array {
    const rng = createRng(seed);
    const noise = () => tf.tensor2d(Float32Array.from(normalArray(rng, n * this.mixture.dim, SIGMA_D)), [n, this.mixture.dim]);
    const values = tf.tidy(() => {
      const f = consistencyFromNetwork(tensorOps, this.emaFunction(n));
      return sampleMultistep(tensorOps, f, noise(), steps === 1 ? [T_MAX] : [T_MAX, T_MID], noise).dataSync();
    });
    return Float64Array.from(values);
  }

  /** Solve the EMA network's PF-ODE from t_max with `steps` Heun steps (2·steps evaluations): the teacher's sampler. */
  sampleOde(n: number, steps: number, seed: number): Float64Array {
    const rng = createRng(seed);
    const values = tf.tidy(() => {
      const z = tf.tensor2d(Float32Array.from(normalArray(rng, n * this.mixture.dim, SIGMA_D)), [n, this.mixture.dim]);
      const velocity = velocityFromNetwork(tensorOps, this.emaFunction(n));
      return integrate(tensorOps, velocity, z, uniformTimes(T_MAX, 0, steps), STEPPERS.heun).dataSync();
    });
    return Float64Array.from(values);
  }

  /**
   * Consistency error at each time: RMS of f_θ(x_t, t) − f*(x_t, t) over n points x_t of the true marginal,
   * with f* the exact ideal consistency function (the analytic ODE solved to t = 0) and f_θ the EMA model.
   */
  consistencyError(times: readonly number[], n: number, seed: number): { t: number; error: number }[] {
    const rng = createRng(seed);
    const ideal = idealConsistencyFunction(this.mixture, SIGMA_D, { rtol: 1e-6, atol: 1e-8 });
    const dim = this.mixture.dim;
    return times.map((t) => {
      const x0 = sampleMixture(this.mixture, n, rng).points;
      const z = normalArray(rng, n * dim, SIGMA_D);
      const xt = x0.map((v, i) => Math.cos(t) * v + Math.sin(t) * z[i]);
      const model = tf.tidy(() => {
        const f = consistencyFromNetwork(tensorOps, this.emaFunction(n));
        return f(tf.tensor2d(Float32Array.from(xt), [n, dim]), t).dataSync() as Float32Array;
      });
      return { t, error: rmsDistance(Float64Array.from(model), ideal(xt, t), dim) };
    });
  }

  /** Sliced Wasserstein distance of samples to fresh samples of the true mixture. */
  distanceToData(samples: Float64Array, seed: number): number {
    const rng = createRng(seed);
    const truth = sampleMixture(this.mixture, samples.length / this.mixture.dim, rng).points;
    return slicedWasserstein(samples, truth, this.mixture.dim, rng, 64);
  }

  dispose(): void {
    this.optimizer.dispose();
    this.net.dispose();
    this.ema.dispose();
  }
}
