/**
 * Faster Slice, SplitV, Concat, Identity and transposed BatchMatMul for TF.js's WebAssembly backend.
 *
 * tfjs-backend-wasm 4.x reads a slice's input with `backend.readSync`, which copies the whole tensor out of the
 * WebAssembly heap, once per slice. Splitting a vector of P parameters into P pieces (the fused optimizer's last
 * step, training/fused-adam.ts, and the adaptive norm's scale/shift) therefore copies the vector P times: in a
 * profile of /stabilizers' live sCT run in Chromium that copy was 20% of the worker's time.
 *
 * These kernels copy the same elements straight from a view of the heap: results are bit-identical (a copy is a
 * copy), and only the elements of each piece move. Other dtypes (strings) go to the original kernel.
 *
 * Its BatchMatMul sends a product to XNNPACK's packed GEMM only when neither side is transposed; with a
 * transpose it runs a scalar triple loop, 10–20× slower on the toy MLP's shapes (dy·Wᵀ for [512, 64]·[32, 64]ᵀ:
 * 1.1 ms against 0.09 ms for the forward [512, 32]·[32, 64]). Every backward pass of a dense layer is such a
 * product (∂x = dy·Wᵀ, ∂W = xᵀ·dy), so they were ~40% of a toy sCT step. The replacement transposes the operand
 * explicitly (one O(n) copy) and hands the backend an untransposed product. Same products, different summation
 * order: equal to float32 round-off, not bit for bit (test/wasm-kernels.test.ts bounds it).
 *
 * Its Identity copies the tensor. The engine runs an Identity for every tensor a gradient keeps for the backward
 * pass (63 of them per toy sCT step); TF.js's CPU backend shares the memory instead, which tensors' immutability
 * allows, and so does this one. Its Concat copies row by row through a new subarray per row and input: the time
 * embedding's [cos, sin] of 512 rows made 1,024 of them; this one copies short rows element by element.
 */
import * as tf from "@tensorflow/tfjs";
import { gatherStrided, replaceKernels, sliceKernel } from "./cpu-kernels.js";

/** What these kernels use of tfjs-backend-wasm's BackendWasm. */
interface WasmBackendLike {
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  typedArrayFromHeap(info: tf.TensorInfo): Float32Array | Int32Array | Uint8Array;
  incRef(dataId: object): void;
}

const NUMERIC = new Set<tf.DataType>(["float32", "int32", "bool"]);

/** The `size` block of x from flat `offset`, read from a view of the heap instead of a copy of all of x. */
function sliceFromHeap(kernelBackend: unknown, x: tf.TensorInfo, size: number[], strides: number[], offset: number): tf.TensorInfo {
  const backend = kernelBackend as WasmBackendLike;
  // The output first: allocating it may grow the heap, which detaches every view taken before.
  const out = backend.makeOutput(size, x.dtype);
  const values = backend.typedArrayFromHeap(x);
  const target = backend.typedArrayFromHeap(out);
  gatherStrided(values as Float32Array, size, strides, offset, target as Float32Array);
  return out;
}

type KernelArgs = Parameters<tf.KernelFunc>[0];

/** xᵀ over its last two axes, by the backend's own Transpose kernel. */
function transposeLastTwo(args: KernelArgs, x: tf.TensorInfo): tf.TensorInfo {
  const perm = x.shape.map((_, d) => d);
  [perm[perm.length - 2], perm[perm.length - 1]] = [perm[perm.length - 1], perm[perm.length - 2]];
  return tf.getKernel("Transpose", "wasm")!.kernelFunc({ inputs: { x }, backend: args.backend, attrs: { perm } }) as tf.TensorInfo;
}

/** BatchMatMul with any transposed operand made explicit, so the backend takes its XNNPACK path (see above). */
function untransposedMatMul(original: tf.KernelFunc): tf.KernelFunc {
  return (args) => {
    const { a, b } = args.inputs as { a: tf.TensorInfo; b: tf.TensorInfo };
    const { transposeA, transposeB } = args.attrs as { transposeA: boolean; transposeB: boolean };
    // XNNPACK's path covers a single product (no batch axes) in float32; the rest stays as it was.
    const single = (x: tf.TensorInfo) => tf.util.sizeFromShape(x.shape.slice(0, -2)) === 1;
    if (!(transposeA || transposeB) || !single(a) || !single(b) || a.dtype !== "float32" || b.dtype !== "float32") return original(args);
    const backend = args.backend as { disposeData(dataId: object): void };
    const left = transposeA ? transposeLastTwo(args, a) : a;
    const right = transposeB ? transposeLastTwo(args, b) : b;
    try {
      return original({ ...args, inputs: { a: left, b: right }, attrs: { ...args.attrs, transposeA: false, transposeB: false } });
    } finally {
      if (left !== a) backend.disposeData(left.dataId);
      if (right !== b) backend.disposeData(right.dataId);
    }
  };
}

/** A second reference to x's memory, as TF.js's CPU backend does (see above). */
function sharedIdentity(original: tf.KernelFunc): tf.KernelFunc {
  return (args) => {
    const { x } = args.inputs as { x: tf.TensorInfo };
    if (!NUMERIC.has(x.dtype)) return original(args);
    (args.backend as WasmBackendLike).incRef(x.dataId);
    return { dataId: x.dataId, shape: [...x.shape], dtype: x.dtype };
  };
}

/** Rows shorter than this are copied element by element; longer ones with one set() (a memcpy). */
const SHORT_ROW = 64;

/** Concat as TF.js's WASM kernel does it, without a subarray per short row (see above). */
function rowConcat(original: tf.KernelFunc): tf.KernelFunc {
  return (args) => {
    const all = args.inputs as unknown as tf.TensorInfo[];
    const inputs = all.filter((t) => tf.util.sizeFromShape(t.shape) > 0);
    if (inputs.length < 2 || !inputs.every((t) => NUMERIC.has(t.dtype) && t.dtype === inputs[0].dtype)) return original(args);
    const axis = tf.util.parseAxisParam((args.attrs as { axis: number }).axis, all[0].shape)[0];
    tf.backend_util.assertParamsConsistent(all.map((t) => t.shape), axis);
    const backend = args.backend as WasmBackendLike;
    // The output first: allocating it may grow the heap, which detaches every view taken before.
    const out = backend.makeOutput(tf.backend_util.computeOutShape(all.map((t) => t.shape), axis), inputs[0].dtype);
    const target = backend.typedArrayFromHeap(out);
    const sources = inputs.map((t) => backend.typedArrayFromHeap(t));
    const widths = inputs.map((t) => tf.util.sizeFromShape(t.shape.slice(axis)));
    const rows = tf.util.sizeFromShape(inputs[0].shape.slice(0, axis));
    for (let row = 0, o = 0; row < rows; row++) {
      for (let k = 0; k < sources.length; k++) {
        const source = sources[k];
        const width = widths[k];
        if (width >= SHORT_ROW) target.set(source.subarray(row * width, (row + 1) * width), o);
        else for (let j = 0, i = row * width; j < width; j++) target[o + j] = source[i + j];
        o += width;
      }
    }
    return out;
  };
}

export const FAST_WASM_KERNELS = ["Slice", "SplitV", "BatchMatMul", "Identity", "Concat"] as const;

const REPLACEMENTS: Record<(typeof FAST_WASM_KERNELS)[number], (original: tf.KernelFunc) => tf.KernelFunc> = {
  Slice: (original) => sliceKernel("Slice", original, NUMERIC, sliceFromHeap),
  SplitV: (original) => sliceKernel("SplitV", original, NUMERIC, sliceFromHeap),
  BatchMatMul: untransposedMatMul,
  Identity: sharedIdentity,
  Concat: rowConcat,
};

/**
 * Registers the kernels above in place of tfjs-backend-wasm's (enabled = true, idempotent), or puts TF.js's own
 * back (false: for side-by-side tests). The WASM backend must be imported first; gradients are unaffected.
 */
export function useFastWasmKernels(enabled = true): void {
  replaceKernels("wasm", FAST_WASM_KERNELS, (name, original) => REPLACEMENTS[name as (typeof FAST_WASM_KERNELS)[number]](original), enabled);
}
