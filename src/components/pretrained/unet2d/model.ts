/**
 * diffusers' UNet2DModel (models/unets/unet_2d.py) in TF.js for inference, NHWC:
 *   emb = TimestepEmbedding(Timesteps(t)) [+ class_embedding(y)]
 *   h = conv_in(x); skips = [h];  down blocks (push skips);  mid block;  up blocks (pop skips)
 *   out = conv_out(SiLU(conv_norm_out(h)))
 *
 * Life cycle: construct from a config.json object (nothing is allocated, parameterCount is known at once), feed
 * the checkpoint's tensors with acceptTensor() in any order, call finishLoading(), then forward(). dispose()
 * frees every weight; a failed load has already freed them.
 */
import * as tf from "@tensorflow/tfjs";
import type { StreamedTensor } from "../../checkpoint/streamed-tensor.js";
import { DownBlock, MidBlock, UpBlock } from "./blocks.js";
import { resolveUnet2DConfig, type ResolvedUnet2DConfig } from "./config.js";
import { Conv2d, GroupNorm } from "./layers.js";
import { TimeConditioning } from "./time-embedding.js";
import { Unet2DWeights, type WeightSpec } from "./weights.js";

export class UNet2DModel {
  readonly config: ResolvedUnet2DConfig;
  private readonly weights = new Unet2DWeights();
  private readonly time: TimeConditioning;
  private readonly convIn: Conv2d;
  private readonly down: DownBlock[];
  private readonly mid: MidBlock | null;
  private readonly up: UpBlock[];
  private readonly normOut: GroupNorm;
  private readonly convOut: Conv2d;

  /** @param configJson the parsed unet/config.json (validated here; see config.ts for what is supported) */
  constructor(configJson: unknown) {
    const c = (this.config = resolveUnet2DConfig(configJson));
    const w = this.weights;
    // Declaration order follows the forward pass, which is also the order diffusers' state dict lists them in.
    this.convIn = new Conv2d(w, "conv_in", c.inChannels, c.blockOutChannels[0], 3);
    this.time = new TimeConditioning(w, c.timeProjectionDim, c.timeEmbeddingDim, c.flipSinToCos, c.freqShift, c.numClassEmbeds);
    this.down = c.downBlocks.map((plan, i) => new DownBlock(w, `down_blocks.${i}`, plan, c));
    this.mid = c.midBlock ? new MidBlock(w, "mid_block", c, c.midBlock) : null;
    this.up = c.upBlocks.map((plan, i) => new UpBlock(w, `up_blocks.${i}`, plan, c));
    const channels = c.blockOutChannels[0];
    this.normOut = new GroupNorm(w, "conv_norm_out", channels, c.normGroups, c.normEps);
    this.convOut = new Conv2d(w, "conv_out", channels, c.outChannels, 3);
    const skips = 1 + this.down.reduce((n, b) => n + b.skipCount, 0);
    const consumed = this.up.reduce((n, b) => n + b.skipCount, 0);
    if (skips !== consumed) throw new Error(`internal: the down path keeps ${skips} skips but the up path consumes ${consumed}`);
  }

  /** Number of float parameters, from the config alone (the checkpoint holds this many values). */
  get parameterCount(): number {
    return this.weights.parameterCount();
  }

  /** Every weight the config implies, with diffusers' names and PyTorch shapes. */
  weightSpecs(): WeightSpec[] {
    return this.weights.list();
  }

  /** Check, convert and upload one checkpoint tensor (see Unet2DWeights.accept). */
  acceptTensor(t: StreamedTensor): void {
    this.weights.accept(t);
  }

  /** Names still missing. */
  missingWeights(): string[] {
    return this.weights.missing();
  }

  /** Throws (and frees everything) if any weight is missing or unexpected. */
  finishLoading(): void {
    this.weights.finish();
  }

  /** Feed a whole stream of tensors and finish; on any error every uploaded tensor is freed. */
  async load(tensors: Iterable<StreamedTensor> | AsyncIterable<StreamedTensor>): Promise<void> {
    try {
      for await (const t of tensors) this.acceptTensor(t);
      this.finishLoading();
    } catch (error) {
      this.dispose();
      throw error;
    }
  }

  /**
   * F(x, t, y): the raw network output.
   * @param sample NHWC [B, H, W, in_channels]; H and W divisible by 2^(levels − 1)
   * @param timesteps one per sample, or one for the batch (the consistency models feed 250·ln σ)
   * @param classLabels integers in [0, num_class_embeds) for class-conditional models, else null
   */
  forward(sample: tf.Tensor4D, timesteps: number | ArrayLike<number>, classLabels: ArrayLike<number> | null = null): tf.Tensor4D {
    if (!this.weights.isReady()) throw new Error("the UNet2DModel weights are not loaded: feed every tensor and call finishLoading() first");
    const c = this.config;
    const [batch, height, width, channels] = sample.shape;
    if (channels !== c.inChannels) throw new RangeError(`sample has ${channels} channels, the model takes ${c.inChannels} (NHWC)`);
    const factor = 2 ** (c.blockOutChannels.length - 1);
    if (height % factor !== 0 || width % factor !== 0) throw new RangeError(`sample size ${height}×${width} cannot be halved ${c.blockOutChannels.length - 1} times`);
    const t = typeof timesteps === "number" ? new Array<number>(batch).fill(timesteps) : Array.from(timesteps);
    if (t.length !== batch) throw new RangeError(`${t.length} timesteps for a batch of ${batch}`);
    const w = this.weights;
    // The outer tidy is the safety net; inside, each layer frees its intermediates and the up path frees each
    // skip once consumed, so the peak memory is the skips plus one layer's work, not the whole graph.
    return tf.tidy(() => {
      const emb = this.time.apply(w, t, classLabels);
      const input = c.centerInputSample ? (tf.sub(tf.mul(sample, 2), 1) as tf.Tensor4D) : sample;
      let h = this.convIn.apply(w, input);
      const skips: tf.Tensor4D[] = [h];
      for (const block of this.down) h = block.apply(w, h, emb, skips);
      if (this.mid) h = this.mid.apply(w, h, emb);
      for (const block of this.up) {
        const next = block.apply(w, h, emb, skips);
        h.dispose();
        h = next;
      }
      const normed = this.normOut.apply(w, h);
      return this.convOut.apply(w, tf.mul(normed, tf.sigmoid(normed)));
    });
  }

  dispose(): void {
    this.weights.dispose();
  }
}

/** Parameter count of a config without building anything on a device (the page shows the download size first). */
export function unet2DParameterCount(configJson: unknown): number {
  return new UNet2DModel(configJson).parameterCount;
}
