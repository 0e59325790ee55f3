/**
 * The three kinds of UNet2D stage, built from a resolved config plan (config.ts), with diffusers' weight
 * prefixes: down_blocks.{i}, mid_block, up_blocks.{i}.
 *
 * - Down (DownBlock2D, AttnDownBlock2D, ResnetDownsampleBlock2D): layers_per_block × [resnet, attention?]; every
 *   output is kept as a skip; then the optional downsampler, whose output is also a skip.
 * - Mid (UNetMidBlock2D): resnet, attention?, resnet.
 * - Up (UpBlock2D, AttnUpBlock2D, ResnetUpsampleBlock2D): (layers_per_block + 1) × [concat the latest skip on the
 *   channel axis, resnet, attention?]; then the optional upsampler.
 */
import * as tf from "@tensorflow/tfjs";
import type { DownBlockPlan, ResolvedUnet2DConfig, UpBlockPlan } from "./config.js";
import { AttentionBlock, ResnetBlock2D, UpsampleConv, applyResampler, downsampleConv, type Resampler, type ResnetOptions } from "./layers.js";
import type { Unet2DWeights } from "./weights.js";

function resnetOptions(c: ResolvedUnet2DConfig, inChannels: number, outChannels: number, extra: Partial<ResnetOptions> = {}): ResnetOptions {
  return { inChannels, outChannels, timeEmbeddingDim: c.timeEmbeddingDim, groups: c.normGroups, eps: c.normEps, timeScaleShift: c.timeScaleShift, ...extra };
}

export class DownBlock {
  private readonly resnets: ResnetBlock2D[] = [];
  private readonly attentions: AttentionBlock[] = [];
  private readonly downsampler: Resampler;
  constructor(w: Unet2DWeights, prefix: string, plan: DownBlockPlan, c: ResolvedUnet2DConfig) {
    for (let j = 0; j < c.layersPerBlock; j++) {
      this.resnets.push(new ResnetBlock2D(w, `${prefix}.resnets.${j}`, resnetOptions(c, j === 0 ? plan.inChannels : plan.outChannels, plan.outChannels)));
      // The down and up blocks give their attention the resnets' norm_num_groups (not attn_norm_num_groups).
      if (plan.attention) this.attentions.push(new AttentionBlock(w, `${prefix}.attentions.${j}`, { channels: plan.outChannels, headDim: c.attentionHeadDim, groups: c.normGroups, eps: c.normEps }));
    }
    const at = `${prefix}.downsamplers.0`;
    this.downsampler =
      plan.downsample === "conv" ? { kind: "conv", layer: downsampleConv(w, at, plan.outChannels, c.downsamplePadding) }
      : plan.downsample === "resnet" ? { kind: "resnet", layer: new ResnetBlock2D(w, at, resnetOptions(c, plan.outChannels, plan.outChannels, { resample: "down" })) }
      : { kind: "none" };
  }

  /**
   * Runs the block; pushes every output that the up path will consume onto `skips` (the caller owns them).
   * Tensors that are neither returned nor skips are freed as soon as they are used.
   */
  apply(w: Unet2DWeights, x: tf.Tensor4D, temb: tf.Tensor2D, skips: tf.Tensor4D[]): tf.Tensor4D {
    let h = x;
    this.resnets.forEach((resnet, j) => {
      h = resnet.apply(w, h, temb);
      if (this.attentions.length > 0) {
        const attended = this.attentions[j].apply(w, h);
        h.dispose();
        h = attended;
      }
      skips.push(h);
    });
    if (this.downsampler.kind !== "none") {
      h = applyResampler(w, this.downsampler, h, temb);
      skips.push(h);
    }
    return h;
  }

  /** How many skips apply() pushes. */
  get skipCount(): number {
    return this.resnets.length + (this.downsampler.kind === "none" ? 0 : 1);
  }
}

export class MidBlock {
  private readonly first: ResnetBlock2D;
  private readonly attention: AttentionBlock | null;
  private readonly second: ResnetBlock2D;
  constructor(w: Unet2DWeights, prefix: string, c: ResolvedUnet2DConfig, plan: NonNullable<ResolvedUnet2DConfig["midBlock"]>) {
    const channels = c.blockOutChannels[c.blockOutChannels.length - 1];
    const options = resnetOptions(c, channels, channels, { outputScaleFactor: plan.scaleFactor });
    this.first = new ResnetBlock2D(w, `${prefix}.resnets.0`, options);
    this.attention = plan.attention
      ? new AttentionBlock(w, `${prefix}.attentions.0`, { channels, headDim: c.attentionHeadDim, groups: plan.attentionGroups, eps: c.normEps, outputScaleFactor: plan.scaleFactor })
      : null;
    this.second = new ResnetBlock2D(w, `${prefix}.resnets.1`, options);
  }
  apply(w: Unet2DWeights, x: tf.Tensor4D, temb: tf.Tensor2D): tf.Tensor4D {
    return tf.tidy(() => {
      const h = this.first.apply(w, x, temb);
      return this.second.apply(w, this.attention ? this.attention.apply(w, h) : h, temb);
    });
  }
}

export class UpBlock {
  private readonly resnets: ResnetBlock2D[] = [];
  private readonly attentions: AttentionBlock[] = [];
  private readonly upsampler: Resampler;
  constructor(w: Unet2DWeights, prefix: string, plan: UpBlockPlan, c: ResolvedUnet2DConfig) {
    const layers = c.layersPerBlock + 1;
    for (let j = 0; j < layers; j++) {
      // UpBlock2D.__init__: the last resnet takes the skip from the level's input, the others the level's own width.
      const skipChannels = j === layers - 1 ? plan.inChannels : plan.outChannels;
      const ownChannels = j === 0 ? plan.prevOutputChannels : plan.outChannels;
      this.resnets.push(new ResnetBlock2D(w, `${prefix}.resnets.${j}`, resnetOptions(c, ownChannels + skipChannels, plan.outChannels)));
      if (plan.attention) this.attentions.push(new AttentionBlock(w, `${prefix}.attentions.${j}`, { channels: plan.outChannels, headDim: c.attentionHeadDim, groups: c.normGroups, eps: c.normEps }));
    }
    const at = `${prefix}.upsamplers.0`;
    this.upsampler =
      plan.upsample === "conv" ? { kind: "conv", layer: new UpsampleConv(w, at, plan.outChannels) }
      : plan.upsample === "resnet" ? { kind: "resnet", layer: new ResnetBlock2D(w, at, resnetOptions(c, plan.outChannels, plan.outChannels, { resample: "up" })) }
      : { kind: "none" };
  }

  /**
   * Consumes skips from the end of `skips` (the most recent first), as UNet2DModel.forward slices them, and
   * frees each one after use, as well as every intermediate; the input x stays the caller's.
   */
  apply(w: Unet2DWeights, x: tf.Tensor4D, temb: tf.Tensor2D, skips: tf.Tensor4D[]): tf.Tensor4D {
    let h = x;
    const replace = (next: tf.Tensor4D) => {
      if (h !== x) h.dispose();
      h = next;
    };
    this.resnets.forEach((resnet, j) => {
      const skip = skips.pop();
      if (!skip) throw new Error("internal: the up path ran out of skip connections");
      const joined = tf.concat([h, skip], 3);
      replace(resnet.apply(w, joined, temb));
      joined.dispose();
      if (skip !== x) skip.dispose();
      if (this.attentions.length > 0) replace(this.attentions[j].apply(w, h));
    });
    if (this.upsampler.kind !== "none") replace(applyResampler(w, this.upsampler, h, temb));
    return h;
  }

  get skipCount(): number {
    return this.resnets.length;
  }
}
