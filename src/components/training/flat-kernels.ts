/**
 * flatten and unflatten, between a network's ~150 parameter tensors and one vector, as one TF.js kernel each.
 * Composed from ops they are ~150 Reshape kernels plus a Concat (or a SplitV): the reshapes launch no GPU work,
 * but each is a trip through TF.js's engine (bookkeeping, a new tensor), and a training step flattens twice and
 * unflattens once. Each kernel here calls the active backend's own Reshape, Concat and SplitV kernel functions
 * (nn/kernels/composite-kernel.ts), so the values are exactly those of the composed ops; on WebGPU they are
 * buffer copies instead, which launch no program at all (flat-kernels-webgpu.ts says why that matters).
 */
import * as tf from "@tensorflow/tfjs";
import { backendKernel, backendOf, runCompositeKernel, type KernelArgs } from "../nn/kernels/composite-kernel.js";
import { copyable, copyKernelsAvailable, flattenByCopies, unflattenByCopies, type WebGpuBackendInternals } from "./flat-kernels-webgpu.js";

const FLATTEN = "ScmFlatten";
const UNFLATTEN = "ScmUnflatten";

const sizeOf = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

/** One vector of every given tensor's values, in order. */
export function flatten(tensors: readonly tf.Tensor[]): tf.Tensor1D {
  if (tensors.length === 0) throw new Error("flatten: no tensors");
  return runCompositeKernel(FLATTEN, flattenKernel, [...tensors]) as tf.Tensor1D;
}

/** The inverse of flatten: `flat` cut into pieces of the shapes given. */
export function unflatten(flat: tf.Tensor1D, shapes: readonly number[][]): tf.Tensor[] {
  const total = shapes.reduce((n, s) => n + sizeOf(s), 0);
  if (flat.rank !== 1 || flat.size !== total) throw new Error(`unflatten: a vector of ${flat.size} values for shapes of ${total}`);
  if (shapes.length === 0) return [];
  const out = runCompositeKernel(UNFLATTEN, unflattenKernel, { x: flat }, { shapes: shapes.map((s) => [...s]) });
  return Array.isArray(out) ? out : [out];
}

/** Buffer copies where the backend is WebGPU and `copies` takes the tensors (null: it does not), else `composed`. */
function byCopiesOnWebGpu(backendName: string, composed: tf.KernelFunc, copies: (backend: WebGpuBackendInternals, args: KernelArgs) => tf.TensorInfo | tf.TensorInfo[] | null): tf.KernelFunc {
  if (backendName !== "webgpu") return composed;
  return (args: KernelArgs) => {
    const backend = args.backend;
    return (copyKernelsAvailable(backend) && copies(backend, args)) || composed(args);
  };
}

function flattenKernel(backendName: string): tf.KernelFunc {
  return byCopiesOnWebGpu(backendName, composedFlatten(backendName), (backend, args) => {
    const inputs = Object.values(args.inputs) as tf.TensorInfo[];
    const oneDtype = inputs.every((x) => x.dtype === inputs[0].dtype);
    return oneDtype && copyable(inputs[0].dtype) ? flattenByCopies(backend, inputs) : null;
  });
}

function unflattenKernel(backendName: string): tf.KernelFunc {
  return byCopiesOnWebGpu(backendName, composedUnflatten(backendName), (backend, args) => {
    const shapes = (args.attrs as unknown as { shapes: number[][] }).shapes;
    return copyable(args.inputs.x!.dtype) ? unflattenByCopies(backend, args.inputs.x!, shapes) : null;
  });
}

function composedFlatten(backendName: string): tf.KernelFunc {
  return (args: KernelArgs) => {
    const { inputs, backend } = args;
    const reshape = backendKernel("Reshape", backendName);
    const vectors = Object.values(inputs).map((x) => reshape({ inputs: { x: x! }, backend, attrs: { shape: [sizeOf(x!.shape)] } }) as tf.TensorInfo);
    try {
      return backendKernel("Concat", backendName)({ inputs: vectors as unknown as tf.NamedTensorInfoMap, backend, attrs: { axis: 0 } });
    } finally {
      // Reshape shares its input's data (a reference count) or makes a copy: either way, let go of it.
      vectors.forEach((v) => backendOf(args).disposeData(v.dataId));
    }
  };
}

function composedUnflatten(backendName: string): tf.KernelFunc {
  return (args: KernelArgs) => {
    const { inputs, backend, attrs } = args;
    const shapes = (attrs as unknown as { shapes: number[][] }).shapes;
    const reshape = backendKernel("Reshape", backendName);
    const split = backendKernel("SplitV", backendName)({ inputs: { x: inputs.x! }, backend, attrs: { numOrSizeSplits: shapes.map(sizeOf), axis: 0 } });
    const pieces = Array.isArray(split) ? split : [split];
    try {
      return pieces.map((piece, i) => reshape({ inputs: { x: piece }, backend, attrs: { shape: shapes[i] } }) as tf.TensorInfo);
    } finally {
      pieces.forEach((p) => backendOf(args).disposeData(p.dataId));
    }
  };
}

// Each is the other's derivative (both are linear and only move values).
tf.registerGradient({
  kernelName: FLATTEN,
  saveAllInputs: true,
  gradFunc: (dy, saved) => {
    const pieces = unflatten(dy as tf.Tensor1D, saved.map((s) => [...s.shape]));
    return Object.fromEntries(pieces.map((piece, i) => [String(i), () => piece]));
  },
});

tf.registerGradient({
  kernelName: UNFLATTEN,
  gradFunc: (dy) => ({ x: () => flatten(Array.isArray(dy) ? dy : [dy]) }),
});
