/**
 * The training loop every sCM Lab run shares, whatever its data: one optimiser step of the chosen objective
 * on a batch the caller draws, the EMA update, diagnostics, and the guard that stops on a non-finite loss or
 * gradient and restores the last good weights. ToyRun (2-D mixtures) and ImageRun (CIFAR-10) add only their
 * data and their measurements.
 */
import * as tf from "@tensorflow/tfjs";
import type { FlowNetwork } from "../nn/network.js";
import { diffusionLoss } from "../objectives/diffusion.js";
import { scmTrainingStep, type ScmStepConfig } from "./scm-step.js";
import { copyParameters, emaDecayFromHalfLife, ParameterEma } from "./ema.js";
import { FusedAdam } from "./fused-adam.js";
import { minimizeMeasuringGradient, type MeasuredStep } from "./measured-step.js";
import { ECT_DEFAULTS, ectLossClosure, type EctConfig } from "../objectives/ect.js";
import { TrainingDiagnostics, type DiagnosticsSnapshot } from "./diagnostics.js";

/** The teacher (TrigFlow diffusion), sCT, sCD, the discrete-time CM of App. E, and the ECT baseline. */
export type Objective = "teacher" | "sct" | "scd" | "discrete" | "ect";

export interface TrainerConfig {
  objective: Objective;
  batch: number;
  learningRate: number;
  /** Adam, or RAdam as the paper uses for consistency models (App. G.2); both with β = (0.9, 0.99) */
  optimizer: "adam" | "radam";
  /** sCT/sCD settings (ignored by the teacher) */
  scm: Omit<ScmStepConfig, "objective" | "teacher">;
  /** EMA half-life in training samples */
  emaHalfLife: number;
  /** settings of the ECT baseline (defaults: ECT's own) */
  ect?: EctConfig;
  seed: number;
}

/** One batch drawn by the caller. The trainer disposes its tensors. */
export interface TrainingBatch {
  x0: tf.Tensor;
  z: tf.Tensor;
  t: tf.Tensor;
  /** the previous grid time t' < t (discrete objective only) */
  tPrime?: tf.Tensor;
  /** EDM noise levels σ per sample (ECT only, which draws σ instead of t) */
  sigmas?: number[];
  /** the values of t as numbers, for the diagnostics (reading t back from the GPU would block, or on WebGPU in a browser fail) */
  times: Float32Array;
}

/** Thrown when the loss or the gradient stops being finite; the run's weights are back at the last good snapshot. */
export class NonFiniteLossError extends Error {
  constructor(readonly iteration: number, readonly value: number, readonly quantity: "loss" | "gradient norm" = "loss") {
    super(`training stopped at step ${iteration}: the ${quantity} became ${value}; the last good weights were restored`);
  }
}

export interface StepReport {
  iteration: number;
  loss: number;
  /** mean ‖g‖ before normalisation (sCT, sCD and discrete objectives only) */
  meanTangentNorm: number | null;
  /** ‖∇_θ L‖₂ of this step */
  gradientNorm: number;
}

/** An optimiser's state as TF.js's getWeights gives it: the step count first, then the moments in variable order. */
export type OptimizerState = { name: string; tensor: tf.Tensor }[];

/** How often the guard copies the weights it would restore (copies stay on the device: no read-back). */
const SNAPSHOT_EVERY = 50;

/** Copies of the network's weights and of the EMA's average vector, taken between steps (no read-back). */
interface Snapshot {
  net: tf.Tensor[];
  ema: tf.Tensor1D;
}

/**
 * A step whose work is queued on the device and whose metrics have not been read back yet. `snapshot` holds the
 * weights after this step when the guard took them then: they become the last good weights once this step's
 * metrics (and every earlier step's) are read back finite.
 */
interface PendingStep extends MeasuredStep {
  iteration: number;
  tangentNorms?: tf.Tensor1D;
  times?: Float32Array;
  snapshot: Snapshot | null;
}

/**
 * Start a consistency model from a teacher (App. G.2: from the teacher's EMA), with the logvar head reset to
 * zero, since w(t) of the consistency loss is a different function from the diffusion loss's.
 */
export function initializeFromTeacher(net: FlowNetwork, teacher: FlowNetwork): void {
  copyParameters(net.params, teacher.params);
  tf.tidy(() => net.weightHeadNames.forEach((n) => net.params.get(n).assign(tf.zerosLike(net.params.get(n)))));
}

export class Trainer {
  iteration = 0;
  private readonly optimizer: FusedAdam;
  private readonly average: ParameterEma;
  private lastGood: Snapshot | null = null;
  /** steps queued on the device whose metrics are not read back yet, oldest first */
  private pending: PendingStep[] = [];
  private readonly diagnostics = new TrainingDiagnostics();

  /**
   * @param net the trained network; @param ema its EMA (for sampling), set equal to `net` here; its weights are
   * up to date only after `syncEma()` (ema.ts says why), and a load into it takes effect from the next step;
   * @param teacher the teacher network for sCD and the discrete CM (evaluated without dropout).
   * The trainer owns neither network.
   */
  constructor(readonly net: FlowNetwork, ema: FlowNetwork, readonly config: TrainerConfig, readonly teacher?: FlowNetwork) {
    if ((config.objective === "scd" || config.objective === "discrete") && !teacher) throw new Error(`${config.objective} needs a teacher`);
    this.average = new ParameterEma(ema.params, net.params, emaDecayFromHalfLife(config.emaHalfLife, config.batch));
    this.optimizer = new FusedAdam(config.learningRate, { rectified: config.optimizer === "radam", beta1: 0.9, beta2: 0.99 });
  }

  /** Resolves when every step's work so far, down to the EMA update, has finished on the device. */
  settled(): Promise<void> {
    return this.average.settled();
  }

  /** Write the average of every step so far into the EMA network's weights (before anyone reads them). */
  syncEma(): void {
    this.average.sync();
  }

  /** One optimiser step on `batch`; throws NonFiniteLossError (after restoring the last good weights) on NaN/Inf. */
  async step(batch: TrainingBatch): Promise<StepReport> {
    const reports = await this.enqueueStep(batch, 1);
    return reports[reports.length - 1];
  }

  /**
   * Queue one optimiser step on `batch` without waiting for its metrics, and read the queued steps' metrics back
   * once `readEvery` steps wait (then their reports, oldest first; otherwise none). A read-back makes the GPU
   * finish the queued work and the page wait for it: reading every k steps lets the device run steps back to back
   * while the page queues the next ones. `iteration` counts queued steps; what a caller reads of the weights is
   * the result of every queued step, checked or not. The guard is the same as step()'s, k steps late: on a
   * non-finite loss or gradient it restores the last weights all of whose steps were checked, drops the steps
   * after them, sets `iteration` to the failed step's index, and throws NonFiniteLossError. Call flush() before
   * saving weights, so that none are saved unchecked.
   */
  async enqueueStep(batch: TrainingBatch, readEvery: number): Promise<StepReport[]> {
    if (!Number.isInteger(readEvery) || readEvery < 1) throw new RangeError(`readEvery must be a whole number ≥ 1, not ${readEvery}`);
    this.queueStep(batch);
    return this.pending.length >= readEvery ? this.flush() : [];
  }

  /** Read back every queued step's metrics (see enqueueStep): their reports, oldest first. */
  async flush(): Promise<StepReport[]> {
    const reports: StepReport[] = [];
    while (this.pending.length > 0) {
      const step = this.pending[0];
      const [value, gradient, norms] = await Promise.all([
        step.loss.data().then((d) => d[0]),
        step.gradientNorm.data().then((d) => d[0]),
        step.tangentNorms ? step.tangentNorms.data().then((d) => Float64Array.from(d)) : undefined,
      ]);
      if (!Number.isFinite(value) || !Number.isFinite(gradient)) {
        this.restore();
        this.iteration = step.iteration - 1;
        throw Number.isFinite(value) ? new NonFiniteLossError(this.iteration, gradient, "gradient norm") : new NonFiniteLossError(this.iteration, value);
      }
      this.pending.shift();
      disposePending(step, false);
      if (step.snapshot) this.keepSnapshot(step.snapshot);
      this.diagnostics.record(value, gradient, step.times, norms);
      const meanTangentNorm = norms ? norms.reduce((a, b) => a + b, 0) / norms.length : null;
      reports.push({ iteration: step.iteration, loss: value, meanTangentNorm, gradientNorm: gradient });
    }
    return reports;
  }

  /** Queue a step's work on the device: the objective, the optimiser, the EMA; and the guard's copy when due. */
  private queueStep(batch: TrainingBatch): void {
    // Weights before any step, or after steps all checked, are good as they are; otherwise the copy waits (flush).
    if (this.lastGood === null && this.pending.length === 0) this.keepSnapshot(this.takeSnapshot());
    const seed = this.config.seed * 1_000_003 + this.iteration;
    const measured = this.objectiveStep(batch, seed);
    this.average.update();
    this.iteration++;
    const due = this.iteration % SNAPSHOT_EVERY === 0;
    this.pending.push({ ...measured, iteration: this.iteration, snapshot: due ? this.takeSnapshot() : null });
  }

  /**
   * Change the learning rate from the next step on (for a schedule). Adam and RAdam both read their public
   * `learningRate` field at every step, so this is safe between steps.
   */
  setLearningRate(learningRate: number): void {
    this.optimizer.learningRate = learningRate;
  }

  /** Loss, gradient norm and tangent statistics accumulated since the last call (training/diagnostics.ts). */
  takeDiagnostics(): DiagnosticsSnapshot {
    return this.diagnostics.take();
  }

  /**
   * The optimiser's state (moments and step count, in Adam's per-variable layout) for a checkpoint that resumes
   * exactly: new tensors, which the caller disposes.
   */
  async optimizerState(): Promise<OptimizerState> {
    return this.optimizer.getWeights();
  }

  /**
   * Continue a saved run: the optimiser's state and the step count (the networks' weights are loaded by the
   * caller). The guard's next snapshot is taken from the restored weights.
   */
  async resume(iteration: number, optimizerState: OptimizerState): Promise<void> {
    await this.optimizer.setWeights(optimizerState);
    this.iteration = iteration;
    this.dropPending();
    this.forgetSnapshot();
  }

  private netVariables(): tf.Variable[] {
    return this.net.params.names().map((n) => this.net.params.get(n));
  }

  private takeSnapshot(): Snapshot {
    return { net: this.netVariables().map((v) => tf.keep(tf.clone(v))), ema: tf.keep(this.average.snapshot()) };
  }

  /** `snapshot` becomes the last good weights (all its steps were checked). */
  private keepSnapshot(snapshot: Snapshot): void {
    this.forgetSnapshot();
    this.lastGood = snapshot;
  }

  /** Back to the last good weights, dropping every queued step after them. */
  private restore(): void {
    this.dropPending();
    if (!this.lastGood) return;
    const saved = this.lastGood;
    this.netVariables().forEach((v, i) => v.assign(saved.net[i]));
    this.average.restore(saved.ema);
  }

  /** Forget the queued steps (their metrics and snapshots), as if they had never been checked. */
  private dropPending(): void {
    for (const step of this.pending) disposePending(step, true);
    this.pending = [];
  }

  private forgetSnapshot(): void {
    if (this.lastGood) tf.dispose([...this.lastGood.net, this.lastGood.ema]);
    this.lastGood = null;
  }

  /** One optimiser step of the configured objective. */
  private objectiveStep(batch: TrainingBatch, seed: number): MeasuredStep & { tangentNorms?: tf.Tensor1D; times?: Float32Array } {
    const { objective } = this.config;
    const withoutLogvar = (n: string) => this.net.weightHeadNames.includes(n);
    try {
      if (objective === "teacher") {
        return minimizeMeasuringGradient(this.optimizer, () => diffusionLoss(this.net, batch.x0, batch.z, batch.t, { dropoutSeed: seed }), this.net.params.trainableVariables(withoutLogvar));
      }
      if (objective === "ect") {
        const ect = this.config.ect ?? ECT_DEFAULTS;
        if (!batch.sigmas) throw new Error("the ECT objective needs σ per sample in its batch");
        const closure = ectLossClosure(this.net, { x0: batch.x0, z: batch.z, sigmas: batch.sigmas }, Math.floor(this.iteration / ect.stageIterations), seed, ect);
        try {
          return minimizeMeasuringGradient(this.optimizer, closure.loss, this.net.params.trainableVariables(withoutLogvar));
        } finally {
          closure.dispose();
        }
      }
      const times = batch.times;
      const result = scmTrainingStep(this.net, this.optimizer, batch, this.iteration, seed, { ...this.config.scm, objective, teacher: this.teacher });
      return { ...result, times };
    } finally {
      tf.dispose([batch.x0, batch.z, batch.t, batch.tPrime ?? []]);
    }
  }

  dispose(): void {
    this.dropPending();
    this.forgetSnapshot();
    this.optimizer.dispose();
    this.average.dispose();
  }
}

/** A queued step's metric tensors, and its snapshot too when the step is dropped. */
function disposePending(step: PendingStep, withSnapshot: boolean): void {
  tf.dispose([step.loss, step.gradientNorm, step.tangentNorms ?? []]);
  if (withSnapshot && step.snapshot) tf.dispose([...step.snapshot.net, step.snapshot.ema]);
}
