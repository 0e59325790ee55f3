/** The fused group norm's three kernels on TF.js's CPU backend (the math is in group-norm-math.ts). */
import * as tf from "@tensorflow/tfjs";
import {
  ADAPTIVE_NORM_GRAD_KERNEL, ADAPTIVE_NORM_KERNEL, ADAPTIVE_NORM_TANGENT_KERNEL, GROUP_NORM_GRAD_KERNEL, GROUP_NORM_KERNEL, GROUP_NORM_TANGENT_KERNEL,
  adaptiveNormGeometry, groupNormGeometry,
  type AdaptiveNormAttrs, type AdaptiveNormGradInputs, type AdaptiveNormInputs, type AdaptiveNormTangentInputs,
  type GroupNormAttrs, type GroupNormGradInputs, type GroupNormInputs, type GroupNormTangentInputs,
} from "./group-norm-contract.js";
import { registerTypedKernel } from "./typed-kernel.js";
import { adaptiveAffine, adaptiveAffineGradient, adaptiveAffineTangent, groupNormForward, groupNormGradient, groupNormTangent } from "./group-norm-math.js";

interface CpuBackendLike {
  data: { get(dataId: object): { values?: unknown } };
  makeTensorInfo(shape: number[], dtype: tf.DataType, values: Float32Array): tf.TensorInfo;
}

const BACKEND = "cpu";

function floats(backend: CpuBackendLike, t: tf.TensorInfo): Float32Array {
  const values = backend.data.get(t.dataId).values;
  if (t.dtype !== "float32" || !(values instanceof Float32Array)) throw new TypeError(`fused group norm takes float32 tensors, got ${t.dtype}`);
  return values;
}

export function registerCpuGroupNorm(): void {
  if (tf.getKernel(GROUP_NORM_KERNEL, BACKEND)) return;
  registerTypedKernel<GroupNormInputs, CpuBackendLike, GroupNormAttrs>(GROUP_NORM_KERNEL, BACKEND, ({ x, scale, shift }, backend, a) => {
    const g = groupNormGeometry(x.shape, scale.shape, a.groups);
    return backend.makeTensorInfo(x.shape, "float32", groupNormForward(floats(backend, x), floats(backend, scale), floats(backend, shift), g, a.eps, a.activation));
  });
  registerTypedKernel<GroupNormTangentInputs, CpuBackendLike, GroupNormAttrs>(GROUP_NORM_TANGENT_KERNEL, BACKEND, ({ x, xDot, scale, shift, scaleDot, shiftDot }, backend, a) => {
    const g = groupNormGeometry(x.shape, scale.shape, a.groups);
    const f = (t: tf.TensorInfo | undefined) => (t ? floats(backend, t) : null);
    return backend.makeTensorInfo(x.shape, "float32", groupNormTangent(floats(backend, x), floats(backend, xDot), floats(backend, scale), floats(backend, shift), f(scaleDot), f(shiftDot), g, a.eps, a.activation));
  });
  registerTypedKernel<GroupNormGradInputs, CpuBackendLike, GroupNormAttrs>(GROUP_NORM_GRAD_KERNEL, BACKEND, ({ dy, x, scale, shift }, backend, a) => {
    const g = groupNormGeometry(x.shape, scale.shape, a.groups);
    const { dx, dScale, dShift } = groupNormGradient(floats(backend, dy), floats(backend, x), floats(backend, scale), floats(backend, shift), g, a.eps, a.activation);
    return [backend.makeTensorInfo(x.shape, "float32", dx), backend.makeTensorInfo(scale.shape, "float32", dScale), backend.makeTensorInfo(shift.shape, "float32", dShift)];
  });

  // The adaptive norm: its scale and shift from the packed affine first, then the same group norm.
  registerTypedKernel<AdaptiveNormInputs, CpuBackendLike, AdaptiveNormAttrs>(ADAPTIVE_NORM_KERNEL, BACKEND, ({ x, affine }, backend, a) => {
    const g = adaptiveNormGeometry(x.shape, affine.shape, a.groups);
    const { scale, shift } = adaptiveAffine(floats(backend, affine), g.batch, g.channels, a.norm);
    return backend.makeTensorInfo(x.shape, "float32", groupNormForward(floats(backend, x), scale, shift, g, a.eps, a.activation));
  });
  registerTypedKernel<AdaptiveNormTangentInputs, CpuBackendLike, AdaptiveNormAttrs>(ADAPTIVE_NORM_TANGENT_KERNEL, BACKEND, ({ x, xDot, affine, affineDot }, backend, a) => {
    const g = adaptiveNormGeometry(x.shape, affine.shape, a.groups);
    const packed = floats(backend, affine);
    const { scale, shift, rho } = adaptiveAffine(packed, g.batch, g.channels, a.norm);
    const { scaleDot, shiftDot } = adaptiveAffineTangent(packed, floats(backend, affineDot), rho, g.batch, g.channels, a.norm);
    return backend.makeTensorInfo(x.shape, "float32", groupNormTangent(floats(backend, x), floats(backend, xDot), scale, shift, scaleDot, shiftDot, g, a.eps, a.activation));
  });
  registerTypedKernel<AdaptiveNormGradInputs, CpuBackendLike, AdaptiveNormAttrs>(ADAPTIVE_NORM_GRAD_KERNEL, BACKEND, ({ dy, x, affine }, backend, a) => {
    const g = adaptiveNormGeometry(x.shape, affine.shape, a.groups);
    const packed = floats(backend, affine);
    const { scale, shift, rho } = adaptiveAffine(packed, g.batch, g.channels, a.norm);
    const { dx, dScale, dShift } = groupNormGradient(floats(backend, dy), floats(backend, x), scale, shift, g, a.eps, a.activation);
    return [backend.makeTensorInfo(x.shape, "float32", dx), backend.makeTensorInfo(affine.shape, "float32", adaptiveAffineGradient(packed, dScale, dShift, rho, g.batch, g.channels, a.norm))];
  });
}
