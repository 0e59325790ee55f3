/**
 * Faster Slice and SplitV for TF.js's WebAssembly backend.
 *
 * tfjs-backend-wasm 4.x reads a slice's input with `backend.readSync`, which copies the whole tensor out of the
 * WebAssembly heap, once per slice. Splitting a vector of P parameters into P pieces (the fused optimizer's last
 * step, training/fused-adam.ts, and the adaptive norm's scale/shift) therefore copies the vector P times: in a
 * profile of /stabilizers' live sCT run in Chromium that copy was 20% of the worker's time.
 *
 * These kernels copy the same elements straight from a view of the heap: results are bit-identical (a copy is a
 * copy), and only the elements of each piece move. Other dtypes (strings) go to the original kernel.
 */
import * as tf from "@tensorflow/tfjs";
import { gatherStrided } from "./cpu-kernels.js";

/** What these kernels use of tfjs-backend-wasm's BackendWasm. */
interface WasmBackendLike {
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  typedArrayFromHeap(info: tf.TensorInfo): Float32Array | Int32Array | Uint8Array;
}

const NUMERIC = new Set<tf.DataType>(["float32", "int32", "bool"]);

/** x[begin : begin + size], read from a view of the heap instead of a copy of all of x. */
function sliceFromHeap(backend: WasmBackendLike, x: tf.TensorInfo, begin: number[], size: number[]): tf.TensorInfo {
  // The output first: allocating it may grow the heap, which detaches every view taken before.
  const out = backend.makeOutput(size, x.dtype);
  const values = backend.typedArrayFromHeap(x);
  const target = backend.typedArrayFromHeap(out);
  const strides = tf.util.computeStrides(x.shape).concat(1);
  const offset = begin.reduce((sum, b, d) => sum + b * strides[d], 0);
  if (tf.slice_util.isSliceContinous(x.shape, begin, size)) target.set(values.subarray(offset, offset + target.length));
  else target.set(gatherStrided(values as Float32Array, size, strides, offset));
  return out;
}

function fastKernel(name: (typeof FAST_WASM_KERNELS)[number], original: tf.KernelFunc): tf.KernelFunc {
  if (name === "Slice") {
    return (args) => {
      const { x } = args.inputs as { x: tf.TensorInfo };
      if (!NUMERIC.has(x.dtype)) return original(args);
      const { begin, size } = args.attrs as { begin: number | number[]; size?: number | number[] };
      const [b, s] = tf.slice_util.parseSliceParams(x as tf.Tensor, begin, size);
      return sliceFromHeap(args.backend as unknown as WasmBackendLike, x, b, s);
    };
  }
  return (args) => {
    const { x } = args.inputs as { x: tf.TensorInfo };
    if (!NUMERIC.has(x.dtype)) return original(args);
    const { numOrSizeSplits, axis } = args.attrs as { numOrSizeSplits: number | number[]; axis: number };
    const along = tf.util.parseAxisParam(axis, x.shape)[0];
    const sizes = tf.backend_util.prepareSplitSize(x as tf.Tensor, numOrSizeSplits, along);
    const begin = x.shape.map(() => 0);
    return sizes.map((s) => {
      const size = x.shape.slice();
      size[along] = s;
      const part = sliceFromHeap(args.backend as unknown as WasmBackendLike, x, begin.slice(), size);
      begin[along] += s;
      return part;
    });
  };
}

export const FAST_WASM_KERNELS = ["Slice", "SplitV"] as const;

/** TF.js's own kernels, kept while the fast ones are registered in their place. */
const originals = new Map<string, tf.KernelConfig>();

/**
 * Registers the kernels above in place of tfjs-backend-wasm's (enabled = true, idempotent), or puts TF.js's own
 * back (false: for side-by-side tests). The WASM backend must be imported first; gradients are unaffected.
 */
export function useFastWasmKernels(enabled = true): void {
  for (const name of FAST_WASM_KERNELS) {
    if (enabled === originals.has(name)) continue;
    const current = tf.getKernel(name, "wasm");
    if (!current) throw new Error(`TF.js's WASM backend has no ${name} kernel to replace (import @tensorflow/tfjs-backend-wasm first)`);
    tf.unregisterKernel(name, "wasm");
    if (enabled) {
      originals.set(name, current);
      tf.registerKernel({ ...current, kernelFunc: fastKernel(name, current.kernelFunc) });
    } else {
      tf.registerKernel(originals.get(name)!);
      originals.delete(name);
    }
  }
}
