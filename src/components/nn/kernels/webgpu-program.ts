/**
 * The part of tfjs-backend-webgpu's WebGPUProgram interface that this project's WGSL programs fill in, and the
 * backend method that runs them (the package does not export these types from its entry point).
 */
import type * as tf from "@tensorflow/tfjs";

export interface WebGpuProgram {
  variableNames: string[];
  outputShape: number[];
  shaderKey: string;
  dispatchLayout: { x: number[] };
  dispatch: [number, number, number];
  workgroupSize: [number, number, number];
  getUserCode(): string;
  /** the program's own uniforms as WGSL struct members (e.g. "seed : u32,"); their values go to runWebGPUProgram */
  uniforms?: string;
}

export interface WebGpuBackendLike {
  runWebGPUProgram(program: WebGpuProgram, inputs: tf.TensorInfo[], outputDtype: tf.DataType, uniforms?: { type: string; data: number[] }[]): tf.TensorInfo;
}

/** WGSL: TF.js binds a uniform buffer to every program; a static use keeps it in the shader's layout. */
export const KEEP_UNIFORMS = "_ = uniforms.NAN;";

/**
 * WGSL: this workgroup's linear index. Past 65,535 workgroups (WebGPU's guaranteed limit per dimension) TF.js
 * spreads a one-dimensional dispatch over a 2-D or 3-D grid of at least as many.
 */
export const WORKGROUP_INDEX = "i32((workgroupId.z * numWorkgroups.y + workgroupId.y) * numWorkgroups.x + workgroupId.x)";

/** WGSL: the float32 nearest to `value`, written exactly as WGSL reads it (its bits). */
export function f32Literal(value: number): string {
  const bits = new Uint32Array(new Float32Array([value]).buffer)[0];
  return `bitcast<f32>(0x${bits.toString(16).padStart(8, "0")}u)`;
}
