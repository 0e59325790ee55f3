/**
 * What the fused group norm's op (../fused-group-norm.ts) and its kernels on each backend agree on: the kernels'
 * names, their attributes, and the geometry of a call, checked once for every backend.
 */
import * as tf from "@tensorflow/tfjs";

export const GROUP_NORM_KERNEL = "ScmGroupNorm";
export const GROUP_NORM_TANGENT_KERNEL = "ScmGroupNormTangent";
export const GROUP_NORM_GRAD_KERNEL = "ScmGroupNormGrad";

export type NormActivation = "none" | "silu";

/** The kernels' attributes. */
export interface GroupNormAttrs {
  groups: number;
  eps: number;
  activation: NormActivation;
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

export function groupNormGeometry(xShape: readonly number[], scaleShape: readonly number[], groups: number): GroupNormGeometry {
  if (xShape.length !== 4) throw new RangeError(`fused group norm takes NHWC images, got shape [${xShape}]`);
  const [batch, h, w, channels] = xShape;
  if (channels % groups !== 0) throw new RangeError(`${channels} channels cannot form ${groups} groups`);
  const perSample = scaleShape.length === 2;
  const expected = perSample ? [batch, channels] : [channels];
  if (!tf.util.arraysEqual([...scaleShape], expected)) throw new RangeError(`scale and shift must be [${expected}], got [${scaleShape}]`);
  return { batch, positions: h * w, channels, groups, perSample };
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

/** Registers kernelFunc for one kernel on one backend, with the inputs, backend and attributes typed. */
export function registerGroupNormKernel<I extends GroupNormInputs, B>(
  kernelName: string, backendName: string, kernel: (inputs: I, backend: B, attrs: GroupNormAttrs) => tf.TensorInfo | tf.TensorInfo[],
): void {
  tf.registerKernel({ kernelName, backendName, kernelFunc: ({ inputs, backend, attrs }) => kernel(inputs as unknown as I, backend as unknown as B, attrs as unknown as GroupNormAttrs) });
}
