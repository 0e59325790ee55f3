/**
 * Faster kernels for TF.js's CPU backend, for the strided cases its reference kernels handle one element at a
 * time (tfjs-backend-cpu 4.x computes a coordinate array per element, with allocations, whenever an input is
 * broadcast along a non-trailing axis, transposed, or sliced across rows).
 *
 * Those cases are everywhere in sCM training: a per-sample time scales a [B, D] batch (cos t·x, Eq. 7), group
 * norm broadcasts [B, 1, G, 1] statistics and reduces over axes 1 and 3, the adaptive norm splits its
 * projection into scale and shift. On the 2-D toy MLP they were ~70% of an sCT step.
 *
 * Each replacement walks the tensors with precomputed strides (an odometer over the outer axes, a tight loop
 * over the last one) and gives bit-identical results to the kernel it replaces: the same float32 rounding and,
 * for reductions, the same summation order (float64 accumulator, reduced indices in row-major order).
 * Inputs it does not cover (other dtypes, complex numbers, strings) go to the original kernel.
 */
import * as tf from "@tensorflow/tfjs";

type Values = Float32Array | Int32Array;
type BinaryOp = "add" | "sub" | "mul" | "div";

interface CpuBackendLike {
  data: { get(dataId: object): { values?: unknown } };
  makeTensorInfo(shape: number[], dtype: tf.DataType, values: Values): tf.TensorInfo;
}

const rowMajorStrides = (shape: readonly number[]): number[] => {
  const strides = new Array<number>(shape.length);
  for (let d = shape.length - 1, s = 1; d >= 0; d--) {
    strides[d] = s;
    s *= shape[d];
  }
  return strides;
};

const sizeOf = (shape: readonly number[]): number => tf.util.sizeFromShape(shape as number[]);

/**
 * Calls visit(offsets) once per row of `shape` (all axes but the last), with each operand's flat
 * offset for that row; operand k moves by strides[k][d] along axis d. The caller loops over the last axis.
 */
function forEachRow(shape: readonly number[], strides: readonly (readonly number[])[], visit: (offsets: number[]) => void): void {
  const rank = shape.length;
  const offsets = strides.map(() => 0);
  if (rank <= 1) {
    visit(offsets);
    return;
  }
  const index = new Array<number>(rank - 1).fill(0);
  const rows = sizeOf(shape.slice(0, -1));
  for (let row = 0; row < rows; row++) {
    visit(offsets);
    for (let d = rank - 2; d >= 0; d--) {
      index[d]++;
      for (let k = 0; k < strides.length; k++) offsets[k] += strides[k][d];
      if (index[d] < shape[d]) break;
      for (let k = 0; k < strides.length; k++) offsets[k] -= strides[k][d] * shape[d];
      index[d] = 0;
    }
  }
}

/** The strides of `shape` read inside the broadcast `outShape`: 0 along axes it is broadcast on. */
function broadcastStrides(shape: readonly number[], outShape: readonly number[]): number[] {
  const own = rowMajorStrides(shape);
  const shift = outShape.length - shape.length;
  return outShape.map((size, d) => (d < shift || shape[d - shift] === 1 ? 0 : own[d - shift]));
}

/** a op b with NumPy broadcasting, as float32. */
export function broadcastBinary(op: BinaryOp, aShape: number[], a: Float32Array, bShape: number[], b: Float32Array): { shape: number[]; values: Float32Array } {
  const shape = tf.backend_util.assertAndGetBroadcastShape(aShape, bShape);
  const out = new Float32Array(sizeOf(shape));
  if (out.length === 0) return { shape, values: out };
  const sa = broadcastStrides(aShape, shape);
  const sb = broadcastStrides(bShape, shape);
  const n = shape.length === 0 ? 1 : shape[shape.length - 1];
  const ia = shape.length === 0 ? 0 : sa[sa.length - 1];
  const ib = shape.length === 0 ? 0 : sb[sb.length - 1];
  let k = 0;
  forEachRow(shape, [sa, sb], ([pa, pb]) => {
    // One loop per operation keeps the inner loop free of calls.
    switch (op) {
      case "add":
        for (let j = 0; j < n; j++) out[k++] = a[pa + j * ia] + b[pb + j * ib];
        break;
      case "sub":
        for (let j = 0; j < n; j++) out[k++] = a[pa + j * ia] - b[pb + j * ib];
        break;
      case "mul":
        for (let j = 0; j < n; j++) out[k++] = a[pa + j * ia] * b[pb + j * ib];
        break;
      case "div":
        for (let j = 0; j < n; j++) out[k++] = a[pa + j * ia] / b[pb + j * ib];
        break;
    }
  });
  return { shape, values: out };
}

/**
 * Copies the elements at offset + Σ index[d]·strides[d] in row-major order of outShape (transpose, slice), into
 * `out` when given (e.g. a view of the WebAssembly heap), else into a new array.
 */
export function gatherStrided<V extends Values>(values: V, outShape: number[], strides: number[], offset: number, out: V = new (values.constructor as new (n: number) => V)(sizeOf(outShape))): V {
  if (out.length === 0) return out;
  const n = outShape.length === 0 ? 1 : outShape[outShape.length - 1];
  const step = outShape.length === 0 ? 0 : strides[strides.length - 1];
  let k = 0;
  forEachRow(outShape, [strides], ([p]) => {
    const start = offset + p;
    if (step === 1) {
      // A row of a slice: one block copy.
      out.set(values.subarray(start, start + n), k);
      k += n;
    } else for (let j = 0; j < n; j++) out[k++] = values[start + j * step];
  });
  return out;
}

/**
 * Sums over `axes`, each element optionally divided by `divisor` first (TF.js's Mean is sum(x / n), each
 * quotient rounded to float32). Accumulates in float64 in row-major order: TF.js's Sum adds the reduced
 * elements in that same order, so the float32 results agree bit for bit.
 */
export function reduceSum<V extends Values>(values: V, shape: number[], axes: number[], divisor = 1): { shape: number[]; values: V } {
  const reduced = new Set(axes);
  const outShape = shape.filter((_, d) => !reduced.has(d));
  const ownStrides = rowMajorStrides(outShape);
  let o = 0;
  const outStrides = shape.map((_, d) => (reduced.has(d) ? 0 : ownStrides[o++]));
  const sums = new Float64Array(sizeOf(outShape));
  const n = shape.length === 0 ? 1 : shape[shape.length - 1];
  const step = shape.length === 0 ? 0 : outStrides[outStrides.length - 1];
  let k = 0;
  forEachRow(shape, [outStrides], ([p]) => {
    if (divisor === 1) for (let j = 0; j < n; j++) sums[p + j * step] += values[k++];
    else for (let j = 0; j < n; j++) sums[p + j * step] += Math.fround(values[k++] / divisor);
  });
  const out = new (values.constructor as new (n: number) => V)(sums.length);
  out.set(sums);
  return { shape: outShape, values: out };
}

/**
 * A Slice or SplitV kernel function (SplitV is one slice per piece) built on a backend's own way to copy the
 * `size` block of x that starts at flat `offset` (x's row-major `strides` given); it checks the parameters as
 * TF.js's kernels do, and inputs of other dtypes go to `original`. Shared by these CPU kernels and wasm-kernels.ts.
 */
export function sliceKernel(
  name: "Slice" | "SplitV",
  original: tf.KernelFunc,
  dtypes: ReadonlySet<tf.DataType>,
  copy: (backend: unknown, x: tf.TensorInfo, size: number[], strides: number[], offset: number) => tf.TensorInfo,
): tf.KernelFunc {
  const slice = (backend: unknown, x: tf.TensorInfo, begin: number[], size: number[]) => {
    const strides = rowMajorStrides(x.shape);
    return copy(backend, x, size, strides, begin.reduce((sum, b, d) => sum + b * strides[d], 0));
  };
  if (name === "Slice") {
    return (args) => {
      const { x } = args.inputs as { x: tf.TensorInfo };
      if (!dtypes.has(x.dtype)) return original(args);
      const { begin, size } = args.attrs as { begin: number | number[]; size?: number | number[] };
      const [b, s] = tf.slice_util.parseSliceParams(x as tf.Tensor, begin, size);
      tf.slice_util.assertParamsValid(x as tf.Tensor, b, s);
      return slice(args.backend, x, b, s);
    };
  }
  return (args) => {
    const { x } = args.inputs as { x: tf.TensorInfo };
    if (!dtypes.has(x.dtype)) return original(args);
    const { numOrSizeSplits, axis } = args.attrs as { numOrSizeSplits: number | number[]; axis: number };
    const along = tf.util.parseAxisParam(axis, x.shape)[0];
    const sizes = tf.backend_util.prepareSplitSize(x as tf.Tensor, numOrSizeSplits, along);
    const begin = x.shape.map(() => 0);
    return sizes.map((s) => {
      const size = x.shape.slice();
      size[along] = s;
      const part = slice(args.backend, x, begin, size);
      begin[along] += s;
      return part;
    });
  };
}

// ---- Registration ----

const NUMERIC = new Set<tf.DataType>(["float32", "int32"]);
const BINARY: Record<string, BinaryOp> = { Add: "add", Sub: "sub", Multiply: "mul", RealDiv: "div" };

function valuesOf(backend: CpuBackendLike, info: tf.TensorInfo): Values {
  return backend.data.get(info.dataId).values as Values;
}

/** The replacement kernel functions, each falling back to `original` for inputs it does not cover. */
function fastKernel(name: string, original: tf.KernelFunc): tf.KernelFunc {
  const binary = BINARY[name];
  if (binary) {
    return (args) => {
      const { a, b } = args.inputs as { a: tf.TensorInfo; b: tf.TensorInfo };
      if (a.dtype !== "float32" || b.dtype !== "float32") return original(args);
      const backend = args.backend as unknown as CpuBackendLike;
      const result = broadcastBinary(binary, a.shape, valuesOf(backend, a) as Float32Array, b.shape, valuesOf(backend, b) as Float32Array);
      return backend.makeTensorInfo(result.shape, "float32", result.values);
    };
  }
  if (name === "Transpose") {
    return (args) => {
      const { x } = args.inputs as { x: tf.TensorInfo };
      if (!NUMERIC.has(x.dtype)) return original(args);
      const perm = (args.attrs as { perm: number[] }).perm;
      const strides = rowMajorStrides(x.shape);
      const backend = args.backend as unknown as CpuBackendLike;
      const shape = perm.map((p) => x.shape[p]);
      return backend.makeTensorInfo(shape, x.dtype, gatherStrided(valuesOf(backend, x), shape, perm.map((p) => strides[p]), 0));
    };
  }
  if (name === "Slice" || name === "SplitV") {
    return sliceKernel(name, original, NUMERIC, (backend, x, size, strides, offset) => {
      const cpu = backend as CpuBackendLike;
      return cpu.makeTensorInfo(size, x.dtype, gatherStrided(valuesOf(cpu, x), size, strides, offset));
    });
  }
  if (name === "Sum" || name === "Mean") {
    return (args) => {
      const { x } = args.inputs as { x: tf.TensorInfo };
      if (name === "Sum" ? !NUMERIC.has(x.dtype) : x.dtype !== "float32") return original(args);
      const { axis, keepDims } = args.attrs as { axis: number | number[]; keepDims: boolean };
      const axes = tf.util.parseAxisParam(axis, x.shape);
      const divisor = name === "Mean" ? sizeOf(axes.map((d) => x.shape[d])) : 1;
      const backend = args.backend as unknown as CpuBackendLike;
      const result = reduceSum(valuesOf(backend, x), x.shape, axes, divisor);
      const shape = keepDims ? tf.backend_util.expandShapeToKeepDim(result.shape, axes) : result.shape;
      return backend.makeTensorInfo(shape, x.dtype, result.values);
    };
  }
  throw new RangeError(`no fast CPU kernel for ${name}`);
}

export const FAST_CPU_KERNELS = ["Add", "Sub", "Multiply", "RealDiv", "Transpose", "Slice", "SplitV", "Sum", "Mean"] as const;

/** TF.js's own kernels, by backend and name, kept while faster ones are registered in their place. */
const originals = new Map<string, tf.KernelConfig>();

/**
 * Registers `fast(name, original)` in place of each of the backend's kernels named (enabled = true, idempotent), or
 * puts TF.js's own back (false: for side-by-side benchmarks and tests). Gradients are registered separately and
 * keep working. Shared by useFastCpuKernels and wasm-kernels.ts.
 */
export function replaceKernels(backendName: string, names: readonly string[], fast: (name: string, original: tf.KernelFunc) => tf.KernelFunc, enabled: boolean): void {
  for (const name of names) {
    const key = `${backendName}/${name}`;
    if (enabled === originals.has(key)) continue;
    const current = tf.getKernel(name, backendName);
    if (!current) throw new Error(`TF.js's ${backendName} backend has no ${name} kernel to replace (is the backend imported?)`);
    tf.unregisterKernel(name, backendName);
    if (enabled) {
      originals.set(key, current);
      tf.registerKernel({ ...current, kernelFunc: fast(name, current.kernelFunc) });
    } else {
      tf.registerKernel(originals.get(key)!);
      originals.delete(key);
    }
  }
}

/**
 * Registers the strided kernels above in place of TF.js's CPU kernels named in FAST_CPU_KERNELS (enabled =
 * true, idempotent), or puts TF.js's own back (false). Affects only the "cpu" backend.
 */
export function useFastCpuKernels(enabled = true): void {
  replaceKernels("cpu", FAST_CPU_KERNELS, (name, original) => fastKernel(name as (typeof FAST_CPU_KERNELS)[number], original), enabled);
}
