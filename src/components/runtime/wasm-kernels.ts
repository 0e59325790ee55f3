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

/** The `size` block of x from flat `offset`, read from a view of the heap instead of a copy of all of x. */
function sliceFromHeap(backend: WasmBackendLike, x: tf.TensorInfo, size: number[], strides: number[], offset: number): tf.TensorInfo {
  // The output first: allocating it may grow the heap, which detaches every view taken before.
  const out = backend.makeOutput(size, x.dtype);
  const values = backend.typedArrayFromHeap(x);
  const target = backend.typedArrayFromHeap(out);
  gatherStrided(values as Float32Array, size, strides, offset, target as Float32Array);
  return out;
}

export const FAST_WASM_KERNELS = ["Slice", "SplitV"] as const;

/**
 * Registers the kernels above in place of tfjs-backend-wasm's (enabled = true, idempotent), or puts TF.js's own
 * back (false: for side-by-side tests). The WASM backend must be imported first; gradients are unaffected.
 */
export function useFastWasmKernels(enabled = true): void {
  replaceKernels("wasm", FAST_WASM_KERNELS, (name, original) => sliceKernel(name as "Slice" | "SplitV", original, NUMERIC, (backend, x, size, strides, offset) => sliceFromHeap(backend as WasmBackendLike, x, size, strides, offset)), enabled);
}
