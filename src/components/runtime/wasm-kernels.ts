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
import { gatherStrided, replaceKernels, sliceKernel } from "./cpu-kernels.js";

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

export const FAST_WASM_KERNELS = ["Slice", "SplitV"] as const;

/**
 * Registers the kernels above in place of tfjs-backend-wasm's (enabled = true, idempotent), or puts TF.js's own
 * back (false: for side-by-side tests). The WASM backend must be imported first; gradients are unaffected.
 */
export function useFastWasmKernels(enabled = true): void {
  replaceKernels("wasm", FAST_WASM_KERNELS, (name, original) => sliceKernel(name as "Slice" | "SplitV", original, NUMERIC, (backend, x, begin, size) => sliceFromHeap(backend as WasmBackendLike, x, begin, size)), enabled);
}
