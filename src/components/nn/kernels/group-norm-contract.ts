/**
 * What the fused group norm's op (../fused-group-norm.ts) and its kernels on each backend agree on: the kernels'
 * names, their attributes, and the geometry of a call, checked once for every backend.
 */
import * as tf from "@tensorflow/tfjs";

export const GROUP_NORM_KERNEL = "ScmGroupNorm";
export const GROUP_NORM_TANGENT_KERNEL = "ScmGroupNormTangent";
export const GROUP_NORM_GRAD_KERNEL = "ScmGroupNormGrad";
/** The same three for the time-adaptive norm, whose scale and shift come packed from one dense layer ([B, 2C]). */
export const ADAPTIVE_NORM_KERNEL = "ScmAdaptiveGroupNorm";
export const ADAPTIVE_NORM_TANGENT_KERNEL = "ScmAdaptiveGroupNormTangent";
export const ADAPTIVE_NORM_GRAD_KERNEL = "ScmAdaptiveGroupNormGrad";

/**
 * How the adaptive norm turns the dense layer's packed output [s, b] into its scale and shift (§4.1):
 * "double" pixel-normalises each half (s/√(mean s² + ε), b/√(mean b² + ε)), "adagn" takes (1 + s, b).
 */
export type AdaptiveNormAffine = "double" | "adagn";
/** PixelNorm's ε (layers.ts pixelNorm), which the fused adaptive norm applies inside. */
export const PIXEL_NORM_EPS = 1e-8;

export type NormActivation = "none" | "silu";

/** The kernels' attributes. */
export interface GroupNormAttrs {
  groups: number;
  eps: number;
  activation: NormActivation;
}

export interface AdaptiveNormAttrs extends GroupNormAttrs {
  norm: AdaptiveNormAffine;
}

/** What the kernels need to know about a call, checked once here for every backend. */
export interface GroupNormGeometry {
  batch: number;
  /** positions per image, H·W */
  positions: number;
  channels: number;
  groups: number;
  /** true for a per-sample [B, C] scale and shift, false for a shared [C] one */
  perSample: boolean;
}

/**
 * NHWC images [B, H, W, C], or feature vectors [B, C] (the MLP's norms: one position per sample, so a group's
 * statistics are over its C/G channels only).
 */
export function groupNormGeometry(xShape: readonly number[], scaleShape: readonly number[], groups: number): GroupNormGeometry {
  if (xShape.length !== 4 && xShape.length !== 2) throw new RangeError(`fused group norm takes NHWC images or [batch, channels] vectors, got shape [${xShape}]`);
  const batch = xShape[0];
  const channels = xShape[xShape.length - 1];
  const positions = xShape.length === 4 ? xShape[1] * xShape[2] : 1;
  if (channels % groups !== 0) throw new RangeError(`${channels} channels cannot form ${groups} groups`);
  const perSample = scaleShape.length === 2;
  const expected = perSample ? [batch, channels] : [channels];
  if (!tf.util.arraysEqual([...scaleShape], expected)) throw new RangeError(`scale and shift must be [${expected}], got [${scaleShape}]`);
  return { batch, positions, channels, groups, perSample };
}

/** The geometry of an adaptive norm's call: x as above, the packed affine [B, 2C]. */
export function adaptiveNormGeometry(xShape: readonly number[], affineShape: readonly number[], groups: number): GroupNormGeometry {
  const batch = xShape[0];
  const channels = xShape[xShape.length - 1];
  if (affineShape.length !== 2 || affineShape[0] !== batch || affineShape[1] !== 2 * channels) {
    throw new RangeError(`the packed scale and shift must be [${batch},${2 * channels}], got [${affineShape}]`);
  }
  return groupNormGeometry(xShape, [batch, channels], groups);
}

/** The kernels' inputs, by name (TF.js passes them as a map). */
export interface GroupNormInputs {
  x: tf.TensorInfo;
  scale: tf.TensorInfo;
  shift: tf.TensorInfo;
}
export interface GroupNormTangentInputs extends GroupNormInputs {
  xDot: tf.TensorInfo;
  /** absent for a constant scale and shift */
  scaleDot?: tf.TensorInfo;
  shiftDot?: tf.TensorInfo;
}
export interface GroupNormGradInputs extends GroupNormInputs {
  dy: tf.TensorInfo;
}

export interface AdaptiveNormInputs {
  x: tf.TensorInfo;
  /** the dense layer's output [B, 2C]: s, then b */
  affine: tf.TensorInfo;
}
export interface AdaptiveNormTangentInputs extends AdaptiveNormInputs {
  xDot: tf.TensorInfo;
  affineDot: tf.TensorInfo;
}
export interface AdaptiveNormGradInputs extends AdaptiveNormInputs {
  dy: tf.TensorInfo;
}
