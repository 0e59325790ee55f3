/**
 * flatten and unflatten on WebGPU as buffer copies (copyBufferToBuffer), launching no compute program. Through the
 * backend's own kernels they are programs: a concat binds at most 7 inputs per program (WebGPU's 8 storage buffers
 * per shader stage), so flattening ~150 gradients is ~25 programs, and unflattening θ into its variables is one
 * slice program per variable (~150; TF.js's WebGPU backend has no shallow slices). Each program costs a pipeline
 * lookup, a uniform buffer and a bind group on the page's thread; a copy is one command in the encoder. The values
 * are moved bit for bit either way.
 *
 * This reaches into tfjs-backend-webgpu's WebGPUBackend (its tensor map and command encoder), which its typed API
 * does not expose: `copyKernelsAvailable` checks the members first, and flat-kernels.ts uses the backend's kernels
 * where they are missing.
 */
import type * as tf from "@tensorflow/tfjs";

/** The few members of a WebGPU buffer used here. */
interface GpuBufferLike {
  size: number;
}

/** The members of tfjs-backend-webgpu's WebGPUBackend (4.22) that a copy needs. */
export interface WebGpuBackendInternals {
  tensorMap: { get(dataId: object): { resource: unknown } | undefined };
  makeTensorInfo(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  /** gives the tensor a GPU buffer, uploading its values if they are still on the CPU */
  uploadToGPU(dataId: object): void;
  ensureCommandEncoderReady(): void;
  endComputePassEncoder(): void;
  commandEncoder: { copyBufferToBuffer(source: GpuBufferLike, sourceOffset: number, destination: GpuBufferLike, destinationOffset: number, size: number): void } | null;
  /**
   * the data the open command encoder uses: the backend defers releasing their buffers until it submits, so that no
   * later upload (which the queue runs before the encoder's commands) can reuse a buffer a recorded command still reads
   */
  commandQueueOwnedIds: WeakSet<object>;
}

const BYTES = 4; // float32 and int32: copy offsets and sizes must be multiples of 4 bytes

/** Whether `backend` has every member the copy kernels use. */
export function copyKernelsAvailable(backend: unknown): backend is WebGpuBackendInternals {
  const b = backend as Partial<WebGpuBackendInternals> | null;
  return !!b && typeof b.tensorMap?.get === "function" && typeof b.makeTensorInfo === "function" && typeof b.uploadToGPU === "function" &&
    typeof b.ensureCommandEncoderReady === "function" && typeof b.endComputePassEncoder === "function" && b.commandQueueOwnedIds instanceof WeakSet;
}

/** Whether tensors of this dtype can be copied as they are: 4-byte elements (copy offsets must be multiples of 4). */
export const copyable = (dtype: tf.DataType): boolean => dtype === "float32" || dtype === "int32";

function bufferOf(backend: WebGpuBackendInternals, info: tf.TensorInfo): GpuBufferLike {
  backend.uploadToGPU(info.dataId);
  const resource = backend.tensorMap.get(info.dataId)?.resource as GpuBufferLike | undefined;
  if (!resource || typeof resource.size !== "number") throw new Error("flat kernels: a tensor without a GPU buffer");
  return resource;
}

const elements = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

/**
 * Record one copy per (source range → destination range) in the backend's command encoder, after the compute
 * pass it has open (a copy cannot run inside a pass); the backend submits them with its next batch.
 */
function copyRanges(backend: WebGpuBackendInternals, ranges: { source: tf.TensorInfo; sourceOffset: number; destination: tf.TensorInfo; destinationOffset: number; count: number }[]): void {
  const buffers = ranges.map((r) => [bufferOf(backend, r.source), bufferOf(backend, r.destination)] as const);
  backend.ensureCommandEncoderReady();
  backend.endComputePassEncoder();
  ranges.forEach((r, i) => {
    backend.commandEncoder!.copyBufferToBuffer(buffers[i][0], r.sourceOffset * BYTES, buffers[i][1], r.destinationOffset * BYTES, r.count * BYTES);
    backend.commandQueueOwnedIds.add(r.source.dataId);
    backend.commandQueueOwnedIds.add(r.destination.dataId);
  });
}

/** One vector of the inputs' values, in order. */
export function flattenByCopies(backend: WebGpuBackendInternals, inputs: readonly tf.TensorInfo[]): tf.TensorInfo {
  const sizes = inputs.map((x) => elements(x.shape));
  const out = backend.makeTensorInfo([sizes.reduce((a, b) => a + b, 0)], inputs[0].dtype);
  let offset = 0;
  copyRanges(backend, inputs.map((source, i) => {
    const range = { source, sourceOffset: 0, destination: out, destinationOffset: offset, count: sizes[i] };
    offset += sizes[i];
    return range;
  }));
  return out;
}

/** `flat` cut into new tensors of the given shapes. */
export function unflattenByCopies(backend: WebGpuBackendInternals, flat: tf.TensorInfo, shapes: readonly number[][]): tf.TensorInfo[] {
  const outs = shapes.map((shape) => backend.makeTensorInfo([...shape], flat.dtype));
  let offset = 0;
  copyRanges(backend, outs.map((destination) => {
    const count = elements(destination.shape);
    const range = { source: flat, sourceOffset: offset, destination, destinationOffset: 0, count };
    offset += count;
    return range;
  }));
  return outs;
}
