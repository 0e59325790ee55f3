/**
 * The kernel ScmDropoutMask: a dropout mask (0 where dropped, 1/(1 − rate) where kept) drawn on the device from a
 * counter-based hash of (seed, element index), on TF.js's CPU, WASM and WebGPU backends, bit for bit the same on
 * each (integer arithmetic only; JavaScript computes the same mask for the backends without the kernel).
 *
 * Why: a mask drawn by a JavaScript random stream is made element by element on the page's thread and uploaded.
 * The small UNet at batch 64 has ~19 M dropout units per pass and a training step needs the mask twice (the
 * plain and the dual pass): ~0.8 s of JavaScript and ~150 MB of uploads per step, about the whole fixed cost
 * per step measured on an H200. A hash needs no state, so the GPU draws each element where it is used.
 *
 * Element i of the mask with seed s is kept iff the top 24 bits of h(i ⊕ h(s ⊕ 0x9e3779b9)) are ≥ ⌈rate·2²⁴⌉,
 * with h Wellons' "lowbias32" integer hash (xor-shift-multiply, full avalanche). Keeping a unit then has
 * probability 1 − rate to within 2⁻²⁴, independently of the others to the hash's quality.
 */
import * as tf from "@tensorflow/tfjs";
import { f32Literal, WORKGROUP_INDEX, type WebGpuBackendLike, type WebGpuProgram } from "./webgpu-program.js";
import { registerTypedKernel } from "./typed-kernel.js";

export const DROPOUT_MASK_KERNEL = "ScmDropoutMask";

export interface DropoutMaskAttrs {
  shape: number[];
  /** any non-negative integer below 2⁵³; used modulo 2³² */
  seed: number;
  rate: number;
}

/** A 32-bit integer hash with full avalanche (C. Wellons, "lowbias32"). */
function lowbias32(value: number): number {
  let x = value >>> 0;
  x ^= x >>> 16;
  x = Math.imul(x, 0x7feb352d);
  x ^= x >>> 15;
  x = Math.imul(x, 0x846ca68b);
  x ^= x >>> 16;
  return x >>> 0;
}

/** The mask's integer parameters: the seed's hash, the 24-bit threshold, the kept value in float32. */
function maskParameters({ seed, rate }: DropoutMaskAttrs): { seedHash: number; threshold: number; scale: number } {
  if (!(rate >= 0 && rate < 1)) throw new RangeError(`a dropout rate is in [0, 1), not ${rate}`);
  if (!Number.isSafeInteger(seed) || seed < 0) throw new RangeError(`a dropout seed is a non-negative integer, not ${seed}`);
  return { seedHash: lowbias32((seed % 2 ** 32) ^ 0x9e3779b9), threshold: Math.ceil(rate * 2 ** 24), scale: Math.fround(1 / (1 - rate)) };
}

/** The mask's values in JavaScript: what every kernel computes, and what backends without one upload. */
export function dropoutMaskValues(attrs: DropoutMaskAttrs, out: Float32Array<ArrayBufferLike> = new Float32Array(tf.util.sizeFromShape(attrs.shape))): Float32Array<ArrayBufferLike> {
  const { seedHash, threshold, scale } = maskParameters(attrs);
  for (let i = 0; i < out.length; i++) out[i] = lowbias32(i ^ seedHash) >>> 8 >= threshold ? scale : 0;
  return out;
}

interface CpuBackendLike {
  makeTensorInfo(shape: number[], dtype: tf.DataType, values: Float32Array): tf.TensorInfo;
}

interface WasmBackendLike {
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  typedArrayFromHeap(info: tf.TensorInfo): Float32Array;
}

const THREADS = 64;

const WGSL_LOWBIAS32 = `
fn lowbias32(value : u32) -> u32 {
  var x = value;
  x = x ^ (x >> 16u);
  x = x * 0x7feb352du;
  x = x ^ (x >> 15u);
  x = x * 0x846ca68bu;
  return x ^ (x >> 16u);
}`;

function dropoutMaskProgram(shape: number[], threshold: number, scale: number): WebGpuProgram {
  const size = tf.util.sizeFromShape(shape);
  return {
    variableNames: [],
    outputShape: shape,
    // The seed changes every step, so it travels as a uniform: the shader is compiled once per shape and rate.
    shaderKey: `scm_dropout_mask_${size}_${threshold}`,
    uniforms: "seedHash : u32,",
    dispatchLayout: { x: shape.map((_, i) => i) },
    dispatch: [Math.ceil(size / THREADS), 1, 1],
    workgroupSize: [THREADS, 1, 1],
    getUserCode: () => `${WGSL_LOWBIAS32}
fn main(index : i32) {
  let i = ${WORKGROUP_INDEX} * ${THREADS} + i32(localId.x);
  if (i < ${size}) {
    let kept = (lowbias32(u32(i) ^ uniforms.seedHash) >> 8u) >= ${threshold}u;
    result[i] = select(0.0, ${f32Literal(scale)}, kept);
  }
}`,
  };
}

/** Registers the kernel on the CPU, WASM and WebGPU backends (once). */
export function registerDropoutMaskKernels(): void {
  if (tf.getKernel(DROPOUT_MASK_KERNEL, "cpu")) return;
  registerTypedKernel<Record<string, never>, CpuBackendLike, DropoutMaskAttrs>(DROPOUT_MASK_KERNEL, "cpu", (_, backend, attrs) =>
    backend.makeTensorInfo([...attrs.shape], "float32", dropoutMaskValues(attrs)),
  );
  registerTypedKernel<Record<string, never>, WasmBackendLike, DropoutMaskAttrs>(DROPOUT_MASK_KERNEL, "wasm", (_, backend, attrs) => {
    const out = backend.makeOutput([...attrs.shape], "float32");
    dropoutMaskValues(attrs, backend.typedArrayFromHeap(out));
    return out;
  });
  registerTypedKernel<Record<string, never>, WebGpuBackendLike, DropoutMaskAttrs>(DROPOUT_MASK_KERNEL, "webgpu", (_, backend, attrs) => {
    const { seedHash, threshold, scale } = maskParameters(attrs);
    return backend.runWebGPUProgram(dropoutMaskProgram([...attrs.shape], threshold, scale), [], "float32", [{ type: "uint32", data: [seedHash] }]);
  });
}
