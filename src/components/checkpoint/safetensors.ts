/**
 * The safetensors format, for sCM Lab's own checkpoints: an 8-byte little-endian header length N, N bytes of
 * JSON ({name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__": {string: string}}), then the raw
 * little-endian tensor bytes. Only float32 ("F32") tensors are written and read here, whole files in memory.
 * The checks of the header are those of the streamed reader (this folder), which also reads F16 and BF16
 * and large files tensor by tensor. Nothing from the file is ever evaluated.
 */
import { CheckpointFormatError } from "./errors.js";
import { parseSafetensorsHeader } from "./header.js";
import { layoutSafetensors } from "./layout.js";
import { checkSafetensorsPrefix } from "./sniff.js";

export { CheckpointFormatError };

/** A tensor as plain data, for checkpoints: float32 values in row-major order (a network's parameter, by name). */
export interface NamedArray {
  shape: number[];
  data: Float32Array;
}

/** Serialise named float32 arrays, sorted by name, with string metadata (e.g. the model config as JSON). */
export function writeSafetensors(tensors: Record<string, NamedArray>, metadata: Record<string, string> = {}): Uint8Array<ArrayBuffer> {
  const names = Object.keys(tensors).sort();
  for (const name of names) {
    const { shape, data } = tensors[name];
    if (shape.reduce((a, b) => a * b, 1) !== data.length) throw new RangeError(`"${name}": shape [${shape}] does not hold ${data.length} values`);
  }
  const layout = layoutSafetensors(
    names.map((name) => ({ name, dtype: "F32", shape: tensors[name].shape })),
    metadata,
  );
  const out = new Uint8Array(layout.fileSize);
  const view = new DataView(out.buffer);
  out.set(layout.prefix);
  for (const { name, begin } of layout.tensors) {
    const data = tensors[name].data;
    const position = layout.prefix.length + begin;
    for (let i = 0; i < data.length; i++) view.setFloat32(position + 4 * i, data[i], true);
  }
  return out;
}

export interface SafetensorsContents {
  tensors: Record<string, NamedArray>;
  metadata: Record<string, string>;
}

/** Parse and validate a whole safetensors file held in memory. Errors say what is wrong, in one line. */
export function readSafetensors(bytes: Uint8Array): SafetensorsContents {
  const dataStart = 8 + checkSafetensorsPrefix(bytes, bytes.length);
  const header = parseSafetensorsHeader(bytes.subarray(8, dataStart), dataStart, bytes.length - dataStart);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const tensors: Record<string, NamedArray> = {};
  for (const { name, dtype, shape, begin } of header.tensors) {
    if (dtype !== "F32") throw new CheckpointFormatError(`tensor "${name}" has dtype ${dtype}; sCM Lab checkpoints hold F32 only`);
    const data = new Float32Array(shape.reduce((a, b) => a * b, 1));
    for (let i = 0; i < data.length; i++) data[i] = view.getFloat32(dataStart + begin + 4 * i, true);
    // defineProperty, not assignment: a tensor called "__proto__" must stay a plain entry.
    Object.defineProperty(tensors, name, { value: { shape, data }, enumerable: true, writable: true, configurable: true });
  }
  return { tensors, metadata: header.metadata };
}
