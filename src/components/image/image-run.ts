/**
 * One training run on images (CIFAR-10): the TrigFlow diffusion teacher, or sCT / sCD fine-tuned from the
 * teacher's EMA (the paper's recipe, §4.2 and App. G.2), or sCT from scratch — the SmallUNet of nn/unet.ts trained by
 * the shared loop of trainer.ts on batches of an ImageDataset. Adds what a page shows: sample grids with
 * 1-step and 2-step consistency samples next to K-step ODE samples of the teacher from the same noise.
 */
import * as tf from "@tensorflow/tfjs";
import { SmallUNet } from "../nn/unet.js";
import type { UNetConfig } from "../nn/unet-config.js";
import type { ImageRunConfig } from "./image-run-config.js";
import { forward } from "../nn/network.js";
import { tensorOps } from "../nn/tensor-ops.js";
import { EDM_PROPOSAL } from "../objectives/diffusion.js";
import { consistencyFromNetwork, sampleMultistep } from "../trigflow/consistency-sampling.js";
import { integrate, karrasTimes, STEPPERS, velocityFromNetwork } from "../trigflow/ode-solvers.js";
import { createRng, type Rng } from "../math/rng.js";
import { sampleTime } from "../trigflow/time-proposal.js";
import { SIGMA_D, T_MAX, T_MID } from "../trigflow/trigflow.js";
import { unitToByte, type ImageDataset } from "./image-dataset.js";
import { initializeFromTeacher, Trainer, type OptimizerState, type StepReport, type TrainingBatch } from "../training/trainer.js";
import type { DiagnosticsSnapshot } from "../training/diagnostics.js";

/** Parameters of a UNet configuration (built on the CPU side of TF.js only long enough to count them). */
export function unetParameterCount(config: Partial<UNetConfig>): number {
  const net = new SmallUNet(config);
  try {
    return net.params.count();
  } finally {
    net.dispose();
  }
}

/** Images as uint8 NHWC, ready for a canvas (one entry per sampler; ode is null without a teacher). */
export interface ImageSamples {
  iteration: number;
  count: number;
  oneStep: Uint8Array;
  twoStep: Uint8Array;
  /** K-step Heun ODE samples of the teacher (or, while the teacher trains, of its own EMA) from the same noise */
  ode: Uint8Array | null;
  odeSteps: number;
}

/** Everything a run needs to continue exactly where it stopped (image-checkpoint.ts stores it). */
export interface ImageRunState {
  iteration: number;
  net: Record<string, { shape: number[]; data: Float32Array }>;
  ema: Record<string, { shape: number[]; data: Float32Array }>;
  optimizer: { name: string; shape: number[]; data: Float32Array }[];
  /** the data sampler's position is not saved: a resumed run draws fresh batches from a seed derived from the step */
}

export class ImageRun {
  readonly net: SmallUNet;
  /** the EMA's network; read it through `ema`, which writes the latest average into it first */
  private readonly emaNetwork: SmallUNet;
  private readonly trainer: Trainer;
  private rng: Rng;

  /**
   * @param teacher the teacher's EMA network: sCD needs it; sCT and sCD start from its weights (App. G.2); its
   * ODE samples are shown next to the consistency samples. Not owned by the run.
   */
  constructor(readonly dataset: ImageDataset, readonly config: ImageRunConfig, readonly teacher?: SmallUNet) {
    const network = { ...config.network, seed: config.seed };
    this.net = new SmallUNet(network);
    this.emaNetwork = new SmallUNet(network);
    if (teacher && config.objective !== "teacher") initializeFromTeacher(this.net, teacher);
    this.trainer = new Trainer(this.net, this.emaNetwork, config, teacher);
    this.rng = createRng(config.seed + 1);
  }

  /** The EMA network (App. G.2), with the average of every step so far. */
  get ema(): SmallUNet {
    this.trainer.syncEma();
    return this.emaNetwork;
  }

  get iteration(): number {
    return this.trainer.iteration;
  }

  get parameterCount(): number {
    return this.net.params.count();
  }

  async step(): Promise<StepReport> {
    return this.trainer.step(this.batch());
  }

  /**
   * Queue a step without waiting for its metrics; they are read back once `readEvery` steps wait (then their
   * reports, oldest first). Trainer.enqueueStep says what the guard does then; flush() reads the rest.
   */
  enqueueStep(readEvery: number): Promise<StepReport[]> {
    return this.trainer.enqueueStep(this.batch(), readEvery);
  }

  /** Read back every queued step's metrics: their reports, oldest first. */
  flush(): Promise<StepReport[]> {
    return this.trainer.flush();
  }

  /** A batch of training images with its noise and times, drawn from the run's own random stream. */
  private batch(): TrainingBatch {
    const { batch, objective, flip } = this.config;
    const proposal = objective === "teacher" ? EDM_PROPOSAL : this.config.proposal;
    const { height, width, channels } = this.dataset.shape;
    const shape: [number, number, number, number] = [batch, height, width, channels];
    const x0 = this.dataset.sampleBatch(this.rng, batch, flip);
    const z = new Float32Array(x0.length);
    for (let i = 0; i < z.length; i++) z[i] = SIGMA_D * this.rng.normal();
    const times = Float32Array.from({ length: batch }, () => sampleTime(this.rng, proposal));
    return { x0: tf.tensor4d(x0, shape), z: tf.tensor4d(z, shape), t: tf.tensor1d(times), times };
  }

  /** Resolves when the steps so far have finished on the device, EMA update included (to time a step to its end). */
  settled(): Promise<void> {
    return this.trainer.settled();
  }

  takeDiagnostics(): DiagnosticsSnapshot {
    return this.trainer.takeDiagnostics();
  }

  /**
   * `count` samples per sampler from the same seeded noise z (so successive grids show the same images
   * improving): 1-step f(z, t_max), 2-step with t_mid = 1.1 and fresh noise, and `odeSteps` Heun steps of the
   * teacher's probability-flow ODE on EDM's time grid (2·odeSteps − 1 evaluations). All with EMA weights.
   */
  async samples(count: number, seed: number, odeSteps: number): Promise<ImageSamples> {
    const { height, width, channels } = this.dataset.shape;
    const shape: [number, number, number, number] = [count, height, width, channels];
    const rng = createRng(seed);
    const draw = () => {
      const values = new Float32Array(count * height * width * channels);
      for (let i = 0; i < values.length; i++) values[i] = SIGMA_D * rng.normal();
      return values;
    };
    const z = draw();
    const renoise = draw();
    const flow = (net: SmallUNet) => (u: tf.Tensor, t: number) => forward(net, u, tf.fill([count], t));
    // Read back asynchronously, all three grids at once (a synchronous read would stall the worker on the GPU).
    const toBytes = async (x: tf.Tensor) => {
      try {
        return Uint8Array.from(await x.data(), unitToByte);
      } finally {
        x.dispose();
      }
    };
    const consistency = (times: number[]) =>
      toBytes(tf.tidy(() => sampleMultistep(tensorOps, consistencyFromNetwork(tensorOps, flow(this.ema)), tf.tensor4d(z, shape), times, () => tf.tensor4d(renoise, shape))));
    const odeNet = this.config.objective === "teacher" ? this.ema : this.teacher;
    const ode = odeNet ? toBytes(tf.tidy(() => integrate(tensorOps, velocityFromNetwork(tensorOps, flow(odeNet)), tf.tensor4d(z, shape), karrasTimes(T_MAX, odeSteps), STEPPERS.heun))) : null;
    const [oneStep, twoStep, odeBytes] = await Promise.all([consistency([T_MAX]), consistency([T_MAX, T_MID]), ode]);
    return { iteration: this.iteration, count, oneStep, twoStep, ode: odeBytes, odeSteps };
  }

  /** The weights, EMA and optimiser state, read back from the device. */
  async state(): Promise<ImageRunState> {
    const weights = await this.trainer.optimizerState();
    const optimizer = await Promise.all(weights.map(async ({ name, tensor }) => ({ name, shape: [...tensor.shape], data: Float32Array.from(await tensor.data()) })));
    tf.dispose(weights.map((w) => w.tensor));
    return { iteration: this.iteration, net: await this.net.params.save(), ema: await this.ema.params.save(), optimizer };
  }

  /** Continue from a saved state (the configuration must be the one it was saved with). */
  async restore(state: ImageRunState): Promise<void> {
    this.net.params.load(state.net);
    this.ema.params.load(state.ema);
    const tensors = state.optimizer.map(({ name, shape, data }) => ({ name, tensor: tf.tensor(data, shape) }));
    try {
      await this.trainer.resume(state.iteration, tensors);
    } finally {
      tf.dispose(tensors.map((t) => t.tensor));
    }
    // Fresh batches after a resume, reproducible from the step: the sampler's position is not part of the state.
    this.rng = createRng(this.config.seed + 1 + 7919 * state.iteration);
  }

  dispose(): void {
    this.trainer.dispose();
    this.net.dispose();
    this.emaNetwork.dispose();
  }
}

export type { OptimizerState };
