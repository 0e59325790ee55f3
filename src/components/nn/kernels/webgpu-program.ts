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
}

export interface WebGpuBackendLike {
  runWebGPUProgram(program: WebGpuProgram, inputs: tf.TensorInfo[], outputDtype: tf.DataType): tf.TensorInfo;
}
