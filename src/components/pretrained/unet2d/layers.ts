/**
 * diffusers' UNet2DModel building blocks in TF.js, inference only, NHWC. Each layer declares its weights in a
 * Unet2DWeights under diffusers' state-dict names (so the checkpoint maps 1:1) and reads them back when it runs.
 * The comments cite the diffusers classes whose forward pass each one reproduces.
 */
import * as tf from "@tensorflow/tfjs";
import { plainAlgebra } from "../../nn/algebra.js";
import { downsample2x, groupNormalize } from "../../nn/layers.js";
import type { TimeScaleShift } from "./config.js";
import type { Unet2DWeights } from "./weights.js";

const silu = <T extends tf.Tensor>(x: T): T => tf.mul(x, tf.sigmoid(x));

/** Zero padding as PyTorch's Conv2d takes it: the same amount on every side, or explicit [before, after] per NHWC axis. */
export type TorchPadding = number | [[0, 0], [number, number], [number, number], [0, 0]];

/**
 * nn.Conv2d with PyTorch's symmetric zero padding. For stride 2 this differs from TF.js "same" padding (which
 * pads only after), so the padding is always passed explicitly.
 */
export class Conv2d {
  private readonly weight: string;
  private readonly bias: string;
  constructor(w: Unet2DWeights, prefix: string, inChannels: number, readonly outChannels: number, readonly kernel: 1 | 3, readonly stride: 1 | 2 = 1, readonly padding: TorchPadding = kernel === 3 ? 1 : 0) {
    this.weight = w.declare(`${prefix}.weight`, [outChannels, inChannels, kernel, kernel], "conv");
    this.bias = w.declare(`${prefix}.bias`, [outChannels], "plain");
  }
  apply(w: Unet2DWeights, x: tf.Tensor4D): tf.Tensor4D {
    return tf.add(tf.conv2d(x, w.get(this.weight) as tf.Tensor4D, this.stride, this.padding), w.get(this.bias));
  }
}

/** nn.Linear: y = x·Wᵀ + b with W kept in PyTorch's [out, in] layout. Works on [N, in]. */
export class Linear {
  private readonly weight: string;
  private readonly bias: string;
  constructor(w: Unet2DWeights, prefix: string, inFeatures: number, readonly outFeatures: number) {
    this.weight = w.declare(`${prefix}.weight`, [outFeatures, inFeatures], "linear");
    this.bias = w.declare(`${prefix}.bias`, [outFeatures], "plain");
  }
  apply(w: Unet2DWeights, x: tf.Tensor2D): tf.Tensor2D {
    return tf.add(tf.matMul(x, w.get(this.weight) as tf.Tensor2D, false, true), w.get(this.bias));
  }
}

/** nn.GroupNorm(groups, channels, eps, affine=True) on [B, …, C]: biased variance per (sample, group), as PyTorch. */
export class GroupNorm {
  private readonly weight: string;
  private readonly bias: string;
  constructor(w: Unet2DWeights, prefix: string, readonly channels: number, readonly groups: number, readonly eps: number) {
    if (channels % groups !== 0) throw new Error(`GroupNorm ${prefix}: ${channels} channels cannot form ${groups} groups`);
    this.weight = w.declare(`${prefix}.weight`, [channels], "plain");
    this.bias = w.declare(`${prefix}.bias`, [channels], "plain");
  }
  apply<T extends tf.Tensor>(w: Unet2DWeights, x: T): T {
    return tf.add(tf.mul(groupNormalize(plainAlgebra, x, this.groups, this.eps), w.get(this.weight)), w.get(this.bias)) as T;
  }
}

export interface ResnetOptions {
  inChannels: number;
  outChannels: number;
  timeEmbeddingDim: number;
  groups: number;
  eps: number;
  timeScaleShift: TimeScaleShift;
  outputScaleFactor?: number;
  /** ResnetBlock2D(up=True / down=True) with no FIR kernel: nearest ×2 (Upsample2D, no conv) or 2×2 average pooling (Downsample2D, no conv) */
  resample?: "up" | "down" | "none";
}

/**
 * diffusers' ResnetBlock2D (models/resnet.py):
 *   h = conv1(resample(SiLU(norm1(x))));  e = time_emb_proj(SiLU(temb))
 *   "default":     h = SiLU(norm2(h + e))
 *   "scale_shift": [scale, shift] = e;  h = SiLU(norm2(h)·(1 + scale) + shift)
 *   out = (conv_shortcut(resample(x)) + conv2(h)) / output_scale_factor      (dropout is off at inference)
 * conv_shortcut (1×1) exists only when the channel count changes.
 */
export class ResnetBlock2D {
  private readonly norm1: GroupNorm;
  private readonly conv1: Conv2d;
  private readonly timeEmbProj: Linear;
  private readonly norm2: GroupNorm;
  private readonly conv2: Conv2d;
  private readonly shortcut: Conv2d | null;
  constructor(w: Unet2DWeights, prefix: string, readonly o: ResnetOptions) {
    this.norm1 = new GroupNorm(w, `${prefix}.norm1`, o.inChannels, o.groups, o.eps);
    this.conv1 = new Conv2d(w, `${prefix}.conv1`, o.inChannels, o.outChannels, 3);
    this.timeEmbProj = new Linear(w, `${prefix}.time_emb_proj`, o.timeEmbeddingDim, o.timeScaleShift === "scale_shift" ? 2 * o.outChannels : o.outChannels);
    this.norm2 = new GroupNorm(w, `${prefix}.norm2`, o.outChannels, o.groups, o.eps);
    this.conv2 = new Conv2d(w, `${prefix}.conv2`, o.outChannels, o.outChannels, 3);
    this.shortcut = o.inChannels !== o.outChannels ? new Conv2d(w, `${prefix}.conv_shortcut`, o.inChannels, o.outChannels, 1) : null;
  }
  /** Returns a new tensor; its intermediates are freed at once (tf.tidy), which bounds the peak memory of a big UNet. */
  apply(w: Unet2DWeights, x: tf.Tensor4D, temb: tf.Tensor2D): tf.Tensor4D {
    return tf.tidy(() => {
      const resample = (y: tf.Tensor4D): tf.Tensor4D =>
        this.o.resample === "up" ? (plainAlgebra.upsampleNearest2x(y) as tf.Tensor4D) : this.o.resample === "down" ? (downsample2x(plainAlgebra, y) as tf.Tensor4D) : y;
      let h = this.conv1.apply(w, resample(silu(this.norm1.apply(w, x))));
      const e = this.timeEmbProj.apply(w, silu(temb));
      const [b, , , c] = h.shape;
      if (this.o.timeScaleShift === "scale_shift") {
        const [scale, shift] = tf.split(tf.reshape(e, [b, 1, 1, 2 * c]), 2, 3);
        h = tf.add(tf.mul(this.norm2.apply(w, h), tf.add(scale, 1)), shift);
      } else {
        h = this.norm2.apply(w, tf.add(h, tf.reshape(e, [b, 1, 1, c])));
      }
      h = this.conv2.apply(w, silu(h));
      const skip = this.shortcut ? this.shortcut.apply(w, resample(x)) : resample(x);
      const sum = tf.add(skip, h) as tf.Tensor4D;
      const scale = this.o.outputScaleFactor ?? 1;
      return scale === 1 ? sum : tf.div(sum, scale);
    });
  }
}

export interface AttentionOptions {
  channels: number;
  /** attention_head_dim; null: a single head over all channels */
  headDim: number | null;
  /** groups of the pre-attention GroupNorm, or null for none (UNetMidBlock2D with "scale_shift" and no attn_norm_num_groups) */
  groups: number | null;
  eps: number;
  outputScaleFactor?: number;
}

/**
 * diffusers' `Attention` as built by the UNet2D blocks (residual_connection=True, bias=True,
 * _from_deprecated_attn_block=True) with AttnProcessor: tokens are the H·W positions,
 *   h = group_norm(x);  q, k, v = to_q(h), to_k(h), to_v(h);  heads = floor(C / head_dim), channel = head·d + i
 *   out = to_out.0(softmax(q kᵀ/√d) v);  y = (out + x) / rescale_output_factor
 */
export class AttentionBlock {
  private readonly norm: GroupNorm | null;
  private readonly toQ: Linear;
  private readonly toK: Linear;
  private readonly toV: Linear;
  private readonly toOut: Linear;
  readonly heads: number;
  readonly headDim: number;
  constructor(w: Unet2DWeights, prefix: string, readonly o: AttentionOptions) {
    this.headDim = o.headDim ?? o.channels;
    this.heads = Math.floor(o.channels / this.headDim);
    if (this.heads < 1) throw new Error(`attention ${prefix}: attention_head_dim ${this.headDim} exceeds its ${o.channels} channels`);
    const inner = this.heads * this.headDim;
    this.norm = o.groups === null ? null : new GroupNorm(w, `${prefix}.group_norm`, o.channels, o.groups, o.eps);
    this.toQ = new Linear(w, `${prefix}.to_q`, o.channels, inner);
    this.toK = new Linear(w, `${prefix}.to_k`, o.channels, inner);
    this.toV = new Linear(w, `${prefix}.to_v`, o.channels, inner);
    this.toOut = new Linear(w, `${prefix}.to_out.0`, inner, o.channels);
  }
  /** Returns a new tensor; intermediates (the [B·heads, HW, HW] scores above all) are freed at once. */
  apply(w: Unet2DWeights, x: tf.Tensor4D): tf.Tensor4D {
    return tf.tidy(() => this.attend(w, x));
  }

  private attend(w: Unet2DWeights, x: tf.Tensor4D): tf.Tensor4D {
    const [b, hgt, wid, c] = x.shape;
    const n = hgt * wid;
    const tokens = tf.reshape(x, [b, n, c]);
    const normed = this.norm ? this.norm.apply(w, tokens) : tokens;
    const flat = tf.reshape(normed, [b * n, c]) as tf.Tensor2D;
    const toHeads = (y: tf.Tensor2D) => tf.reshape(tf.transpose(tf.reshape(y, [b, n, this.heads, this.headDim]), [0, 2, 1, 3]), [b * this.heads, n, this.headDim]) as tf.Tensor3D;
    const q = toHeads(this.toQ.apply(w, flat));
    const k = toHeads(this.toK.apply(w, flat));
    const v = toHeads(this.toV.apply(w, flat));
    const weights = tf.softmax(tf.mul(tf.matMul(q, k, false, true), 1 / Math.sqrt(this.headDim)));
    const attended = tf.matMul(weights, v);
    const merged = tf.reshape(tf.transpose(tf.reshape(attended, [b, this.heads, n, this.headDim]), [0, 2, 1, 3]), [b * n, this.heads * this.headDim]) as tf.Tensor2D;
    const out = tf.add(tf.reshape(this.toOut.apply(w, merged), [b, hgt, wid, c]), x) as tf.Tensor4D;
    const scale = this.o.outputScaleFactor ?? 1;
    return scale === 1 ? out : tf.div(out, scale);
  }
}

/**
 * diffusers' Downsample2D(use_conv=True, name="op"): a 3×3 stride-2 convolution (weights "….conv.*").
 * padding 1 pads both sides; padding 0 pads one pixel after, as diffusers' F.pad(…, (0, 1, 0, 1)).
 */
export function downsampleConv(w: Unet2DWeights, prefix: string, channels: number, padding: 0 | 1): Conv2d {
  return new Conv2d(w, `${prefix}.conv`, channels, channels, 3, 2, padding === 1 ? 1 : [[0, 0], [0, 1], [0, 1], [0, 0]]);
}

/** diffusers' Upsample2D(use_conv=True): nearest-neighbour ×2, then a 3×3 convolution ("….conv.*"). */
export class UpsampleConv {
  private readonly conv: Conv2d;
  constructor(w: Unet2DWeights, prefix: string, channels: number) {
    this.conv = new Conv2d(w, `${prefix}.conv`, channels, channels, 3);
  }
  apply(w: Unet2DWeights, x: tf.Tensor4D): tf.Tensor4D {
    return tf.tidy(() => this.conv.apply(w, plainAlgebra.upsampleNearest2x(x) as tf.Tensor4D));
  }
}

/** A level's resampler: nothing, a (conv) Downsample2D/Upsample2D, or a ResnetBlock2D(down/up=True). */
export type Resampler =
  | { kind: "none" }
  | { kind: "conv"; layer: Conv2d | UpsampleConv }
  | { kind: "resnet"; layer: ResnetBlock2D };

export function applyResampler(w: Unet2DWeights, r: Resampler, x: tf.Tensor4D, temb: tf.Tensor2D): tf.Tensor4D {
  if (r.kind === "none") return x;
  if (r.kind === "resnet") return r.layer.apply(w, x, temb);
  return r.layer.apply(w, x);
}
