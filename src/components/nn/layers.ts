/**
 * Layers of sCM Lab's networks. Each is written once against TensorAlgebra (algebra.ts): with the plain
 * algebra it is an ordinary forward pass, with the dual algebra the same code also carries the exact
 * tangent. Shapes: images NHWC [B, H, W, C]; vectors [B, C]; time [B].
 */
import * as tf from "@tensorflow/tfjs";
import { plainAlgebra, type GroupAffine, type TensorAlgebra } from "./algebra.js";
import { fusedActivationPays, type AdaptiveNormAffine, type NormActivation } from "./fused-group-norm.js";
import { PIXEL_NORM_EPS } from "./kernels/group-norm-contract.js";
import { fanInUniform, ones, zeros, normal, type ParameterSet } from "./parameters.js";
import { dropoutMask } from "./dropout-mask.js";
import { SIGMA_D } from "../trigflow/trigflow.js";

export class Dense {
  readonly weight: tf.Variable;
  readonly bias: tf.Variable | null;
  constructor(params: ParameterSet, name: string, readonly inFeatures: number, readonly outFeatures: number, { bias = true, gain = 1 } = {}) {
    this.weight = params.create(`${name}.weight`, [inFeatures, outFeatures], fanInUniform(gain));
    this.bias = bias ? params.create(`${name}.bias`, [outFeatures], zeros) : null;
  }
  apply<X>(alg: TensorAlgebra<X>, x: X): X {
    const y = alg.matMulConst(x, this.weight);
    return this.bias ? alg.addConst(y, this.bias) : y;
  }
}

export class Conv2d {
  readonly filter: tf.Variable;
  readonly bias: tf.Variable | null;
  readonly stride: 1 | 2;
  constructor(
    params: ParameterSet,
    name: string,
    readonly inChannels: number,
    readonly outChannels: number,
    readonly kernel: 1 | 3,
    { stride = 1 as 1 | 2, bias = true, gain = 1 } = {},
  ) {
    this.stride = stride;
    this.filter = params.create(`${name}.weight`, [kernel, kernel, inChannels, outChannels], fanInUniform(gain));
    this.bias = bias ? params.create(`${name}.bias`, [outChannels], zeros) : null;
  }
  apply<X>(alg: TensorAlgebra<X>, x: X): X {
    return alg.conv2d(x, this.filter, this.stride, this.bias ?? undefined);
  }
}

/** x·sigmoid(x); derivative sigmoid(x)·(1 + x − silu(x)). */
export function silu<X>(alg: TensorAlgebra<X>, x: X): X {
  return alg.unary(
    x,
    (v) => tf.mul(v, tf.sigmoid(v)),
    (v, fv) => tf.mul(tf.sigmoid(v), tf.sub(tf.add(1, v), fv)),
  );
}

/** 1/√x; derivative −½·x^(−3/2) = −½·rsqrt(x)³. */
export function rsqrt<X>(alg: TensorAlgebra<X>, x: X): X {
  return alg.unary(x, (v) => tf.rsqrt(v), (_, fv) => tf.mul(-0.5, tf.mul(fv, tf.mul(fv, fv))));
}

export function sin<X>(alg: TensorAlgebra<X>, x: X): X {
  return alg.unary(x, (v) => tf.sin(v), (v) => tf.cos(v));
}

export function cos<X>(alg: TensorAlgebra<X>, x: X): X {
  return alg.unary(x, (v) => tf.cos(v), (v) => tf.neg(tf.sin(v)));
}

/**
 * Group normalisation without affine parameters: zero mean, unit variance within each group of channels
 * of each sample. Works on [B, C] and on NHWC [B, H, W, C].
 */
export function groupNormalize<X>(alg: TensorAlgebra<X>, x: X, groups: number, eps = 1e-5): X {
  const shape = alg.shape(x);
  const channels = shape[shape.length - 1];
  if (channels % groups !== 0) throw new RangeError(`${channels} channels cannot form ${groups} groups`);
  const spatial = shape.slice(1, -1).reduce((a, b) => a * b, 1);
  const grouped = alg.reshape(x, [shape[0], spatial, groups, channels / groups]);
  return alg.reshape(alg.normalizeGroups(grouped, eps), shape);
}

/**
 * act(group norm(x)·scale + shift): one fused kernel where the algebra and the backend have one (CPU, WASM,
 * WebGPU), otherwise composed from the algebra's primitives — the same function, op by op as before fusion.
 */
export function normalizeAffine<X>(alg: TensorAlgebra<X>, x: X, affine: GroupAffine<X>, groups: number, eps: number, activation: NormActivation): X {
  const inside = fusedActivationPays();
  const fused = alg.fusedGroupNorm?.(x, affine, { groups, eps, activation: inside ? activation : "none" });
  if (fused) return inside || activation === "none" ? fused : silu(alg, fused);
  const normalized = groupNormalize(alg, x, groups, eps);
  let z: X;
  if (affine.kind === "const") {
    z = alg.addConst(alg.mulConst(normalized, affine.scale), affine.shift);
  } else {
    const { scale, shift } = affine.kind === "packed" ? unpackAdaptiveAffine(alg, affine.affine, affine.norm) : affine;
    z = alg.add(alg.mul(normalized, broadcastOverPositions(alg, scale, alg.shape(x))), broadcastOverPositions(alg, shift, alg.shape(x)));
  }
  return activation === "silu" ? silu(alg, z) : z;
}

/** The adaptive norm's scale and shift from its dense layer's output [s, b] (§4.1): (pnorm(s), pnorm(b)) or (1 + s, b). */
function unpackAdaptiveAffine<X>(alg: TensorAlgebra<X>, packed: X, norm: AdaptiveNormKind): { scale: X; shift: X } {
  const [s, b] = alg.split(packed, 2, -1);
  return norm === "double" ? { scale: pixelNorm(alg, s), shift: pixelNorm(alg, b) } : { scale: alg.addConst(s, tf.scalar(1)), shift: b };
}

/** A per-sample [B, C] vector reshaped to broadcast over the positions of x: [B, 1, 1, C] for images. */
function broadcastOverPositions<X>(alg: TensorAlgebra<X>, v: X, xShape: number[]): X {
  const [batch, channels] = alg.shape(v);
  return xShape.length === 2 ? v : alg.reshape(v, [batch, ...xShape.slice(1, -1).map(() => 1), channels]);
}

export class GroupNorm {
  readonly gamma: tf.Variable;
  readonly beta: tf.Variable;
  constructor(params: ParameterSet, name: string, readonly channels: number, readonly groups = Math.min(32, Math.max(1, channels / 4)), readonly eps = 1e-5) {
    this.gamma = params.create(`${name}.weight`, [channels], ones);
    this.beta = params.create(`${name}.bias`, [channels], zeros);
  }
  /** act(GN(x)·γ + β); SiLU after the norm is part of the layer so that the fused kernel can include it */
  apply<X>(alg: TensorAlgebra<X>, x: X, activation: NormActivation = "none"): X {
    return normalizeAffine(alg, x, { kind: "const", scale: this.gamma, shift: this.beta }, this.groups, this.eps, activation);
  }
}

/** Pixel norm (PGGAN): v / √(mean over channels of v² + ε), per sample and position (§4.1). */
export function pixelNorm<X>(alg: TensorAlgebra<X>, v: X, eps = PIXEL_NORM_EPS): X {
  const shape = alg.shape(v);
  const meanSquare = alg.mean(alg.mul(v, v), [shape.length - 1], true);
  return alg.mul(v, rsqrt(alg, alg.addConst(meanSquare, tf.scalar(eps))));
}

/**
 * Time-adaptive group norm. A dense layer maps the time embedding to a per-channel scale s and shift b.
 * - "double" (sCM's adaptive double normalisation, §4.1): GN(x)·pnorm(s) + pnorm(b)
 * - "adagn" (the original AdaGN the paper found unstable): GN(x)·(1 + s) + b
 */
export type AdaptiveNormKind = AdaptiveNormAffine;

export class AdaptiveGroupNorm {
  readonly affine: Dense;
  constructor(params: ParameterSet, name: string, readonly channels: number, embeddingDim: number, readonly kind: AdaptiveNormKind, readonly groups = Math.min(32, Math.max(1, channels / 4))) {
    this.affine = new Dense(params, `${name}.affine`, embeddingDim, 2 * channels);
  }
  apply<X>(alg: TensorAlgebra<X>, x: X, embedding: X, activation: NormActivation = "none"): X {
    return normalizeAffine(alg, x, { kind: "packed", affine: this.affine.apply(alg, embedding), norm: this.kind }, this.groups, 1e-5, activation);
  }
}

/**
 * Dropout with a mask drawn from (seed, site): the plain pass and the dual pass of one training step use
 * the same seed and therefore the same mask on value and tangent: the JVP must differentiate the very function
 * the primal pass evaluates.
 */
export class Dropout {
  constructor(readonly rate: number, readonly site: number) {}
  apply<X>(alg: TensorAlgebra<X>, x: X, seed: number | null): X {
    if (seed === null || this.rate === 0) return x;
    return alg.mulConst(x, dropoutMask(alg.shape(x), seed * 7919 + this.site, this.rate));
  }
}

/**
 * The noise conditioning c_noise(t) fed to the time embedding (§4.1):
 * - "identity": c = t, sCM's choice; sin t·∂c/∂t = sin t stays bounded
 * - "logSigma": c = ¼·ln(σd tan t), EDM's ¼ ln σ; sin t·∂c/∂t = 1/(4 cos t) explodes as t → π/2
 * - "scaled1000": c = 1000·t, the DDPM-style timestep scaling; every time derivative is 1000× larger
 */
export type CNoiseKind = "identity" | "logSigma" | "scaled1000";

export function cNoise<X>(alg: TensorAlgebra<X>, t: X, kind: CNoiseKind, sigmaD = SIGMA_D): X {
  switch (kind) {
    case "identity":
      return t;
    case "scaled1000":
      return alg.scale(t, 1000);
    case "logSigma":
      // d/dt ¼ ln(σd tan t) = 1/(4 sin t cos t) = 1/(2 sin 2t)
      return alg.unary(
        t,
        (v) => tf.mul(0.25, tf.log(tf.mul(sigmaD, tf.tan(v)))),
        (v) => tf.div(0.5, tf.sin(tf.mul(2, v))),
      );
  }
}

/**
 * Sinusoidal positional embedding of a scalar per sample (Transformer/DDPM style, as in edm2_sCM's
 * PositionalEmbedding with endpoint=True): frequencies (1/maxPositions)^(i/(half − 1)), output [cos, sin].
 * Its frequencies are ≤ 1, so ∂emb/∂c is bounded: "positional embeddings amount to s ≈ 0.02" (§4.1).
 */
export class PositionalEmbedding {
  readonly frequencies: tf.Tensor;
  constructor(readonly dim: number, maxPositions = 10000) {
    const half = dim / 2;
    this.frequencies = tf.tensor2d(Array.from({ length: half }, (_, i) => (1 / maxPositions) ** (i / Math.max(half - 1, 1))), [1, half]);
  }
  apply<X>(alg: TensorAlgebra<X>, c: X): X {
    const angles = alg.mulConst(alg.reshape(c, [alg.shape(c)[0], 1]), this.frequencies);
    return alg.concat([cos(alg, angles), sin(alg, angles)], 1);
  }
  dispose(): void {
    this.frequencies.dispose();
  }
}

/**
 * Random Fourier features (NCSN++/EDM): frequencies ω ~ N(0, s²) fixed at init, output
 * [cos(2πωc), sin(2πωc)]. ∂emb/∂c scales with s; s = 16 is what made continuous-time CMs unstable (§4.1).
 * The frequencies are saved with the network but never trained.
 */
export class FourierEmbedding {
  readonly frequencies: tf.Variable;
  constructor(params: ParameterSet, name: string, readonly dim: number, readonly scale: number) {
    this.frequencies = params.create(`${name}.frequencies`, [1, dim / 2], normal(scale), { trainable: false });
  }
  apply<X>(alg: TensorAlgebra<X>, c: X): X {
    const angles = alg.scale(alg.mulConst(alg.reshape(c, [alg.shape(c)[0], 1]), this.frequencies), 2 * Math.PI);
    return alg.concat([cos(alg, angles), sin(alg, angles)], 1);
  }
}

export interface TimeEmbeddingConfig {
  kind: "positional" | "fourier";
  /** width of the sinusoidal embedding */
  dim: number;
  /** Fourier scale s (only for kind "fourier"); EDM/NCSN++ use 16 */
  fourierScale?: number;
}

/** c_noise(t) → sinusoidal embedding → Dense → SiLU → Dense → SiLU: the conditioning vector of every block. */
export class TimeConditioning {
  readonly embedding: PositionalEmbedding | FourierEmbedding;
  readonly map0: Dense;
  readonly map1: Dense;
  constructor(params: ParameterSet, name: string, readonly config: TimeEmbeddingConfig, readonly cNoiseKind: CNoiseKind, readonly outDim: number) {
    this.embedding = config.kind === "positional" ? new PositionalEmbedding(config.dim) : new FourierEmbedding(params, `${name}.fourier`, config.dim, config.fourierScale ?? 16);
    this.map0 = new Dense(params, `${name}.map0`, config.dim, outDim);
    this.map1 = new Dense(params, `${name}.map1`, outDim, outDim);
  }
  apply<X>(alg: TensorAlgebra<X>, t: X): X {
    const embedded = this.embedding.apply(alg, cNoise(alg, t, this.cNoiseKind));
    return silu(alg, this.map1.apply(alg, silu(alg, this.map0.apply(alg, embedded))));
  }
  /** Frees the fixed positional frequency table (Fourier frequencies belong to the parameter set). */
  dispose(): void {
    if (this.embedding instanceof PositionalEmbedding) this.embedding.dispose();
  }
}

/**
 * The adaptive-weighting head w_φ(t) of Eq. 8: a positional embedding of c_noise(t) and one dense layer to
 * a scalar per sample (as in edm2_sCM). Initialised to zero, so training starts from unit weights. It is
 * never differentiated in t, so it runs in the plain algebra only.
 */
export class LogvarHead {
  private readonly embedding: PositionalEmbedding;
  private readonly dense: Dense;
  /** its parameters' names in the network's ParameterSet */
  readonly parameterNames: readonly string[];
  constructor(params: ParameterSet, name: string, dim: number, readonly cNoiseKind: CNoiseKind) {
    this.embedding = new PositionalEmbedding(dim);
    this.dense = new Dense(params, name, dim, 1, { gain: 0 });
    this.parameterNames = [`${name}.weight`, `${name}.bias`];
  }
  apply(t: tf.Tensor): tf.Tensor {
    return tf.tidy(() => tf.reshape(this.dense.apply(plainAlgebra, this.embedding.apply(plainAlgebra, cNoise(plainAlgebra, t, this.cNoiseKind))), [-1]));
  }
  dispose(): void {
    this.embedding.dispose();
  }
}

/** 2× average pooling by reshape + mean (linear, so its tangent is the same pooling). */
export function downsample2x<X>(alg: TensorAlgebra<X>, x: X): X {
  const [b, h, w, c] = alg.shape(x);
  return alg.mean(alg.reshape(x, [b, h / 2, 2, w / 2, 2, c]), [2, 4], false);
}

/** (a + b)·skipScale: residual sum scaled to keep the variance constant (DDPM++ uses √½). */
export function residual<X>(alg: TensorAlgebra<X>, a: X, b: X, skipScale = Math.SQRT1_2): X {
  return alg.scaledAdd?.(a, b, skipScale) ?? alg.scale(alg.add(a, b), skipScale);
}

/**
 * Multi-head self-attention over the positions of an NHWC image, with a residual connection. Its tangent
 * follows from the dual matMul and softmax rules: ẏ = p·v̇ + (p ⊙ (ṡ − Σ p ṡ))·v, the attention JVP of §5.1.
 */
export class SelfAttention {
  readonly norm: GroupNorm;
  readonly qkv: Conv2d;
  readonly proj: Conv2d;
  constructor(params: ParameterSet, name: string, readonly channels: number, readonly heads = 1, projGain = 1e-2) {
    if (channels % heads !== 0) throw new RangeError(`${channels} channels cannot split into ${heads} heads`);
    this.norm = new GroupNorm(params, `${name}.norm`, channels);
    this.qkv = new Conv2d(params, `${name}.qkv`, channels, 3 * channels, 1);
    this.proj = new Conv2d(params, `${name}.proj`, channels, channels, 1, { gain: projGain });
  }
  apply<X>(alg: TensorAlgebra<X>, x: X, skipScale = Math.SQRT1_2): X {
    const [b, h, w, c] = alg.shape(x);
    const d = c / this.heads;
    // With one head the transposes below move an axis of size 1: the memory order is unchanged, and a reshape does
    // (saves 4 kernels per pass, 16 per sCT step, and their gradients).
    const oneHead = this.heads === 1;
    const toHeads = (y: X) => (oneHead ? alg.reshape(y, [b, h * w, d]) : alg.reshape(alg.transpose(alg.reshape(y, [b, h * w, this.heads, d]), [0, 2, 1, 3]), [b * this.heads, h * w, d]));
    const [q, k, v] = alg.split(this.qkv.apply(alg, this.norm.apply(alg, x)), 3, -1).map(toHeads);
    const weights = alg.softmax(alg.scale(alg.matMul(q, k, false, true), 1 / Math.sqrt(d)));
    const attended = alg.matMul(weights, v);
    const merged = oneHead ? alg.reshape(attended, [b, h, w, c]) : alg.reshape(alg.transpose(alg.reshape(attended, [b, this.heads, h * w, d]), [0, 2, 1, 3]), [b, h, w, c]);
    return residual(alg, this.proj.apply(alg, merged), x, skipScale);
  }
}
