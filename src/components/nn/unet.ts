/**
 * A small DDPM++-style UNet for 32×32 images (the architecture family of the paper's CIFAR-10 models,
 * App. G.1, scaled down): residual blocks with time-adaptive double normalisation, average-pool down and
 * nearest up sampling, self-attention at chosen resolutions, skip connections by concatenation, positional
 * embedding of raw t (c_noise(t) = t), dropout, and a logvar head for adaptive weighting (§4.2).
 */
import type * as tf from "@tensorflow/tfjs";
import type { TensorAlgebra } from "./algebra.js";
import {
  AdaptiveGroupNorm, Conv2d, Dropout, GroupNorm, LogvarHead, SelfAttention, TimeConditioning,
  downsample2x, residual,
} from "./layers.js";
import { ParameterSet } from "./parameters.js";
import type { ApplyOptions, FlowNetwork } from "./network.js";
import { DEFAULT_UNET_CONFIG, type UNetConfig } from "./unet-config.js";

/** One residual block: GN→SiLU→(resample)→conv→AdaptiveNorm(emb)→SiLU→dropout→conv, plus skip, plus attention. */
class UNetBlock {
  private readonly norm0: GroupNorm;
  private readonly conv0: Conv2d;
  private readonly norm1: AdaptiveGroupNorm;
  private readonly dropout: Dropout;
  private readonly conv1: Conv2d;
  private readonly skip: Conv2d | null;
  private readonly attention: SelfAttention | null;

  constructor(
    params: ParameterSet,
    name: string,
    readonly inChannels: number,
    readonly outChannels: number,
    embeddingDim: number,
    c: UNetConfig,
    site: number,
    readonly resample: "none" | "up" | "down" = "none",
    attention = false,
  ) {
    this.norm0 = new GroupNorm(params, `${name}.norm0`, inChannels);
    this.conv0 = new Conv2d(params, `${name}.conv0`, inChannels, outChannels, 3);
    this.norm1 = new AdaptiveGroupNorm(params, `${name}.norm1`, outChannels, embeddingDim, c.norm);
    this.dropout = new Dropout(c.dropout, site);
    this.conv1 = new Conv2d(params, `${name}.conv1`, outChannels, outChannels, 3, { gain: c.outputGain });
    this.skip = inChannels !== outChannels ? new Conv2d(params, `${name}.skip`, inChannels, outChannels, 1) : null;
    this.attention = attention ? new SelfAttention(params, `${name}.attn`, outChannels, c.attentionHeads) : null;
  }

  apply<X>(alg: TensorAlgebra<X>, x: X, emb: X, dropoutSeed: number | null): X {
    const resample = (y: X) => (this.resample === "up" ? alg.upsampleNearest2x(y) : this.resample === "down" ? downsample2x(alg, y) : y);
    let h = this.conv0.apply(alg, resample(this.norm0.apply(alg, x, "silu")));
    h = this.norm1.apply(alg, h, emb, "silu");
    h = this.conv1.apply(alg, this.dropout.apply(alg, h, dropoutSeed));
    const shortcut = this.skip ? this.skip.apply(alg, resample(x)) : resample(x);
    const out = residual(alg, h, shortcut);
    return this.attention ? this.attention.apply(alg, out) : out;
  }
}

export class SmallUNet implements FlowNetwork {
  readonly params: ParameterSet;
  readonly config: UNetConfig;
  private readonly time: TimeConditioning;
  private readonly inputConv: Conv2d;
  private readonly encoder: UNetBlock[] = [];
  private readonly decoder: { block: UNetBlock; takesSkip: boolean }[] = [];
  private readonly outNorm: GroupNorm;
  private readonly outConv: Conv2d;
  private readonly logvarHead: LogvarHead;

  constructor(config: Partial<UNetConfig> = {}) {
    const c = (this.config = { ...DEFAULT_UNET_CONFIG, ...config });
    if (c.resolution % 2 ** (c.channelMult.length - 1) !== 0) throw new RangeError(`resolution ${c.resolution} cannot be halved ${c.channelMult.length - 1} times`);
    const params = (this.params = new ParameterSet(c.seed));
    const embDim = 4 * c.baseChannels;
    this.time = new TimeConditioning(params, "time", c.timeEmbedding, c.cNoise, embDim);
    this.inputConv = new Conv2d(params, "input", c.inChannels, c.baseChannels, 3);
    let site = 0;

    // Encoder: every output is kept for a skip connection.
    const skipChannels = [c.baseChannels];
    let channels = c.baseChannels;
    c.channelMult.forEach((mult, level) => {
      const res = c.resolution >> level;
      if (level > 0) {
        this.encoder.push(new UNetBlock(params, `enc.${res}x${res}.down`, channels, channels, embDim, c, site++, "down"));
        skipChannels.push(channels);
      }
      for (let b = 0; b < c.blocksPerLevel; b++) {
        const out = c.baseChannels * mult;
        this.encoder.push(new UNetBlock(params, `enc.${res}x${res}.block${b}`, channels, out, embDim, c, site++, "none", c.attentionResolutions.includes(res)));
        channels = out;
        skipChannels.push(channels);
      }
    });

    // Decoder: each block concatenates one encoder output; levels end with an upsampling block.
    for (let level = c.channelMult.length - 1; level >= 0; level--) {
      const res = c.resolution >> level;
      for (let b = 0; b <= c.blocksPerLevel; b++) {
        const out = c.baseChannels * c.channelMult[level];
        const skip = skipChannels.pop()!;
        this.decoder.push({ block: new UNetBlock(params, `dec.${res}x${res}.block${b}`, channels + skip, out, embDim, c, site++, "none", c.attentionResolutions.includes(res)), takesSkip: true });
        channels = out;
      }
      if (level > 0) this.decoder.push({ block: new UNetBlock(params, `dec.${res}x${res}.up`, channels, channels, embDim, c, site++, "up"), takesSkip: false });
    }
    this.outNorm = new GroupNorm(params, "out.norm", channels);
    this.outConv = new Conv2d(params, "out.conv", channels, c.inChannels, 3, { gain: c.outputGain });
    this.logvarHead = new LogvarHead(params, "logvar", c.timeEmbedding.dim, c.cNoise);
  }

  apply<X>(alg: TensorAlgebra<X>, u: X, t: X, { dropoutSeed = null }: ApplyOptions = {}): X {
    const emb = this.time.apply(alg, t);
    let h = this.inputConv.apply(alg, u);
    const skips: X[] = [h];
    for (const block of this.encoder) {
      h = block.apply(alg, h, emb, dropoutSeed);
      skips.push(h);
    }
    for (const { block, takesSkip } of this.decoder) {
      h = block.apply(alg, takesSkip ? alg.concat([h, skips.pop()!], 3) : h, emb, dropoutSeed);
    }
    return this.outConv.apply(alg, this.outNorm.apply(alg, h, "silu"));
  }

  logvar(t: tf.Tensor): tf.Tensor {
    return this.logvarHead.apply(t);
  }
  get weightHeadNames(): readonly string[] {
    return this.logvarHead.parameterNames;
  }

  dispose(): void {
    this.params.dispose();
    this.logvarHead.dispose();
    this.time.dispose();
  }
}
