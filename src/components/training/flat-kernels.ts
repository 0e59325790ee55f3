/**
 * flatten and unflatten, between a network's ~150 parameter tensors and one vector, as one TF.js kernel each.
 * Composed from ops they are ~150 Reshape kernels plus a Concat (or a SplitV): the reshapes launch no GPU work,
 * but each is a trip through TF.js's engine (bookkeeping, a new tensor), and a training step flattens twice and
 * unflattens once. Each kernel here calls the active backend's own Reshape, Concat and SplitV kernel functions, so
 * the GPU programs and the values are exactly those of the composed ops on every backend.
 */
import * as tf from "@tensorflow/tfjs";

const FLATTEN = "ScmFlatten";
const UNFLATTEN = "ScmUnflatten";

const sizeOf = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

/** One vector of every given tensor's values, in order. */
export function flatten(tensors: readonly tf.Tensor[]): tf.Tensor1D {
  if (tensors.length === 0) throw new Error("flatten: no tensors");
  registerFor(tf.getBackend());
  return tf.engine().runKernel(FLATTEN, [...tensors] as unknown as tf.NamedTensorMap, {}) as tf.Tensor1D;
}

/** The inverse of flatten: `flat` cut into pieces of the shapes given. */
export function unflatten(flat: tf.Tensor1D, shapes: readonly number[][]): tf.Tensor[] {
  const total = shapes.reduce((n, s) => n + sizeOf(s), 0);
  if (flat.rank !== 1 || flat.size !== total) throw new Error(`unflatten: a vector of ${flat.size} values for shapes of ${total}`);
  if (shapes.length === 0) return [];
  registerFor(tf.getBackend());
  const out = tf.engine().runKernel(UNFLATTEN, { x: flat }, { shapes: shapes.map((s) => [...s]) } as unknown as tf.NamedAttrMap) as tf.Tensor | tf.Tensor[];
  return Array.isArray(out) ? out : [out];
}

type KernelArgs = Parameters<tf.KernelFunc>[0];
/** What every TF.js backend is; the kernel function's argument types it as `{}` */
const backendOf = (args: KernelArgs) => args.backend as tf.KernelBackend;

/** The backend's own kernel function `name`: these kernels add no arithmetic of their own. */
function backendKernel(name: string, backendName: string): tf.KernelFunc {
  const config = tf.getKernel(name, backendName);
  if (!config) throw new Error(`the ${backendName} backend has no ${name} kernel`);
  return config.kernelFunc;
}

const registered = new Set<string>();

/** Register both kernels for a backend the first time they run on it (any backend with Reshape, Concat and SplitV). */
function registerFor(backendName: string): void {
  if (registered.has(backendName)) return;
  registered.add(backendName);
  tf.registerKernel({
    kernelName: FLATTEN,
    backendName,
    kernelFunc: (args: KernelArgs) => {
      const { inputs, backend } = args;
      const reshape = backendKernel("Reshape", backendName);
      const vectors = Object.values(inputs).map((x) => reshape({ inputs: { x: x! }, backend, attrs: { shape: [sizeOf(x!.shape)] } }) as tf.TensorInfo);
      try {
        return backendKernel("Concat", backendName)({ inputs: vectors as unknown as tf.NamedTensorInfoMap, backend, attrs: { axis: 0 } });
      } finally {
        // Reshape shares its input's data (a reference count) or makes a copy: either way, let go of it.
        vectors.forEach((v) => backendOf(args).disposeData(v.dataId));
      }
    },
  });
  tf.registerKernel({
    kernelName: UNFLATTEN,
    backendName,
    kernelFunc: (args: KernelArgs) => {
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
    },
  });
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
