/**
 * The kernel ScmScaledAdd, (a + b)·s elementwise for two tensors of one shape and a constant s, on TF.js's CPU,
 * WASM and WebGPU backends. Both round as the two ops it replaces do, in float32: the sum, then the product, so the result
 * is bit for bit that of tf.mul(tf.add(a, b), s).
 */
import * as tf from "@tensorflow/tfjs";
import { f32Literal, KEEP_UNIFORMS, WORKGROUP_INDEX, type WebGpuBackendLike, type WebGpuProgram } from "./webgpu-program.js";
import { registerTypedKernel } from "./typed-kernel.js";

export const SCALED_ADD_KERNEL = "ScmScaledAdd";

export interface ScaledAddInputs {
  a: tf.TensorInfo;
  b: tf.TensorInfo;
}

export interface ScaledAddAttrs {
  scale: number;
}

function checkInputs({ a, b }: ScaledAddInputs): void {
  if (a.dtype !== "float32" || b.dtype !== "float32") throw new TypeError(`${SCALED_ADD_KERNEL} takes float32 tensors, got ${a.dtype} and ${b.dtype}`);
  if (!tf.util.arraysEqual(a.shape, b.shape)) throw new Error(`${SCALED_ADD_KERNEL} takes tensors of one shape, got [${a.shape}] and [${b.shape}]`);
}

function register<B>(backendName: string, kernel: (inputs: ScaledAddInputs, backend: B, attrs: ScaledAddAttrs) => tf.TensorInfo): void {
  if (tf.getKernel(SCALED_ADD_KERNEL, backendName)) return;
  registerTypedKernel<ScaledAddInputs, B, ScaledAddAttrs>(SCALED_ADD_KERNEL, backendName, (inputs, backend, attrs) => {
    checkInputs(inputs);
    return kernel(inputs, backend, attrs);
  });
}

/** out ← (x + y)·scale, rounded as the Add kernel's float32 output and then the product's Float32Array store are. */
function scaledAddInto(x: Float32Array, y: Float32Array, scale: number, out: Float32Array): void {
  const s = Math.fround(scale);
  for (let i = 0; i < out.length; i++) out[i] = Math.fround(x[i] + y[i]) * s;
}

interface CpuBackendLike {
  data: { get(dataId: object): { values?: unknown } };
  makeTensorInfo(shape: number[], dtype: tf.DataType, values: Float32Array): tf.TensorInfo;
}

export function registerCpuScaledAdd(): void {
  register<CpuBackendLike>("cpu", ({ a, b }, backend, { scale }) => {
    const x = backend.data.get(a.dataId).values as Float32Array;
    const y = backend.data.get(b.dataId).values as Float32Array;
    const out = new Float32Array(x.length);
    scaledAddInto(x, y, scale, out);
    return backend.makeTensorInfo([...a.shape], "float32", out);
  });
}

/** What the kernel uses of tfjs-backend-wasm's BackendWasm: tensors live in the WebAssembly heap. */
interface WasmBackendLike {
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  typedArrayFromHeap(info: tf.TensorInfo): Float32Array;
}

/** The same over views of the WASM heap (the toy runs' fastest backend in Node and in the browser). */
export function registerWasmScaledAdd(): void {
  register<WasmBackendLike>("wasm", ({ a, b }, backend, { scale }) => {
    // The output first: allocating it may grow the heap, which detaches every view taken before.
    const result = backend.makeOutput([...a.shape], "float32");
    scaledAddInto(backend.typedArrayFromHeap(a), backend.typedArrayFromHeap(b), scale, backend.typedArrayFromHeap(result));
    return result;
  });
}

const THREADS = 64;

function scaledAddProgram(shape: number[], scale: number): WebGpuProgram {
  const size = tf.util.sizeFromShape(shape);
  const workgroups = Math.ceil(size / THREADS);
  const s = f32Literal(scale);
  return {
    variableNames: ["a", "b"],
    outputShape: shape,
    shaderKey: `scm_scaled_add_${size}_${s}`,
    dispatchLayout: { x: shape.map((_, i) => i) },
    // Past 65,535 workgroups TF.js spreads them over a 2-D or 3-D grid: main reads the linear index back.
    dispatch: [workgroups, 1, 1],
    workgroupSize: [THREADS, 1, 1],
    getUserCode: () => `
fn main(index : i32) {
  ${KEEP_UNIFORMS}
  let i = ${WORKGROUP_INDEX} * ${THREADS} + i32(localId.x);
  if (i < ${size}) {
    let total = a[i] + b[i];
    result[i] = total * ${s};
  }
}`,
  };
}

export function registerWebGpuScaledAdd(): void {
  register<WebGpuBackendLike>("webgpu", ({ a, b }, backend, { scale }) => backend.runWebGPUProgram(scaledAddProgram([...a.shape], scale), [a, b], "float32"));
}
