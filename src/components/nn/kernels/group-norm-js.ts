/**
 * The fused group norm's three kernels (and the adaptive norm's) as JavaScript loops over float32 arrays, on
 * TF.js's CPU backend and on its WASM backend (where the arrays are views of the WebAssembly heap). The math is in
 * group-norm-math.ts; this file only moves tensors in and out.
 */
import * as tf from "@tensorflow/tfjs";
import {
  ADAPTIVE_NORM_GRAD_KERNEL, ADAPTIVE_NORM_KERNEL, ADAPTIVE_NORM_TANGENT_KERNEL, GROUP_NORM_GRAD_KERNEL, GROUP_NORM_KERNEL, GROUP_NORM_TANGENT_KERNEL,
  adaptiveNormGeometry, groupNormGeometry,
  type AdaptiveNormAttrs, type AdaptiveNormGradInputs, type AdaptiveNormInputs, type AdaptiveNormTangentInputs,
  type GroupNormAttrs, type GroupNormGradInputs, type GroupNormInputs, type GroupNormTangentInputs,
} from "./group-norm-contract.js";
import { registerTypedKernel } from "./typed-kernel.js";
import { adaptiveAffine, adaptiveAffineGradient, adaptiveAffineTangent, groupNormForward, groupNormGradient, groupNormTangent } from "./group-norm-math.js";

/** How a backend's tensors are read as float32 arrays and made from them. */
interface FloatIo {
  read(t: tf.TensorInfo): Float32Array;
  /** a new tensor holding `values`; call it only after every read is done (a WASM allocation moves the heap) */
  make(shape: number[], values: Float32Array): tf.TensorInfo;
}

function checkFloat(t: tf.TensorInfo): void {
  if (t.dtype !== "float32") throw new TypeError(`fused group norm takes float32 tensors, got ${t.dtype}`);
}

interface CpuBackendLike {
  data: { get(dataId: object): { values?: unknown } };
  makeTensorInfo(shape: number[], dtype: tf.DataType, values: Float32Array): tf.TensorInfo;
}

const cpuIo = (backend: CpuBackendLike): FloatIo => ({
  read(t) {
    checkFloat(t);
    const values = backend.data.get(t.dataId).values;
    if (!(values instanceof Float32Array)) throw new TypeError("fused group norm: a float32 tensor without float32 values");
    return values;
  },
  make: (shape, values) => backend.makeTensorInfo(shape, "float32", values),
});

/** What these kernels use of tfjs-backend-wasm's BackendWasm: tensors live in the WebAssembly heap. */
interface WasmBackendLike {
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  typedArrayFromHeap(info: tf.TensorInfo): Float32Array;
}

const wasmIo = (backend: WasmBackendLike): FloatIo => ({
  read(t) {
    checkFloat(t);
    return backend.typedArrayFromHeap(t);
  },
  // The math has returned new arrays by now, so the heap may grow here: no view taken before is used after.
  make(shape, values) {
    const out = backend.makeOutput(shape, "float32");
    backend.typedArrayFromHeap(out).set(values);
    return out;
  },
});

export function registerCpuGroupNorm(): void {
  registerGroupNorm("cpu", cpuIo);
}

export function registerWasmGroupNorm(): void {
  registerGroupNorm("wasm", wasmIo);
}

function registerGroupNorm<B>(backendName: string, ioOf: (backend: B) => FloatIo): void {
  if (tf.getKernel(GROUP_NORM_KERNEL, backendName)) return;
  // Each kernel reads all its inputs, computes, and only then makes its outputs (see FloatIo.make).
  const kernel = <I, A>(name: string, body: (inputs: I, io: FloatIo, attrs: A) => tf.TensorInfo | tf.TensorInfo[]) =>
    registerTypedKernel<I, B, A>(name, backendName, (inputs, backend, attrs) => body(inputs, ioOf(backend), attrs));
  kernel<GroupNormInputs, GroupNormAttrs>(GROUP_NORM_KERNEL, ({ x, scale, shift }, io, a) => {
    const g = groupNormGeometry(x.shape, scale.shape, a.groups);
    return io.make(x.shape, groupNormForward(io.read(x), io.read(scale), io.read(shift), g, a.eps, a.activation));
  });
  kernel<GroupNormTangentInputs, GroupNormAttrs>(GROUP_NORM_TANGENT_KERNEL, ({ x, xDot, scale, shift, scaleDot, shiftDot }, io, a) => {
    const g = groupNormGeometry(x.shape, scale.shape, a.groups);
    const f = (t: tf.TensorInfo | undefined) => (t ? io.read(t) : null);
    return io.make(x.shape, groupNormTangent(io.read(x), io.read(xDot), io.read(scale), io.read(shift), f(scaleDot), f(shiftDot), g, a.eps, a.activation));
  });
  kernel<GroupNormGradInputs, GroupNormAttrs>(GROUP_NORM_GRAD_KERNEL, ({ dy, x, scale, shift }, io, a) => {
    const g = groupNormGeometry(x.shape, scale.shape, a.groups);
    const { dx, dScale, dShift } = groupNormGradient(io.read(dy), io.read(x), io.read(scale), io.read(shift), g, a.eps, a.activation);
    return [io.make(x.shape, dx), io.make(scale.shape, dScale), io.make(shift.shape, dShift)];
  });

  // The adaptive norm: its scale and shift from the packed affine first, then the same group norm.
  kernel<AdaptiveNormInputs, AdaptiveNormAttrs>(ADAPTIVE_NORM_KERNEL, ({ x, affine }, io, a) => {
    const g = adaptiveNormGeometry(x.shape, affine.shape, a.groups);
    const { scale, shift } = adaptiveAffine(io.read(affine), g.batch, g.channels, a.norm);
    return io.make(x.shape, groupNormForward(io.read(x), scale, shift, g, a.eps, a.activation));
  });
  kernel<AdaptiveNormTangentInputs, AdaptiveNormAttrs>(ADAPTIVE_NORM_TANGENT_KERNEL, ({ x, xDot, affine, affineDot }, io, a) => {
    const g = adaptiveNormGeometry(x.shape, affine.shape, a.groups);
    const packed = io.read(affine);
    const { scale, shift, rho } = adaptiveAffine(packed, g.batch, g.channels, a.norm);
    const { scaleDot, shiftDot } = adaptiveAffineTangent(packed, io.read(affineDot), rho, g.batch, g.channels, a.norm);
    return io.make(x.shape, groupNormTangent(io.read(x), io.read(xDot), scale, shift, scaleDot, shiftDot, g, a.eps, a.activation));
  });
  kernel<AdaptiveNormGradInputs, AdaptiveNormAttrs>(ADAPTIVE_NORM_GRAD_KERNEL, ({ dy, x, affine }, io, a) => {
    const g = adaptiveNormGeometry(x.shape, affine.shape, a.groups);
    const packed = io.read(affine);
    const { scale, shift, rho } = adaptiveAffine(packed, g.batch, g.channels, a.norm);
    const { dx, dScale, dShift } = groupNormGradient(io.read(dy), io.read(x), scale, shift, g, a.eps, a.activation);
    const dAffine = adaptiveAffineGradient(packed, dScale, dShift, rho, g.batch, g.channels, a.norm);
    return [io.make(x.shape, dx), io.make(affine.shape, dAffine)];
  });
}
