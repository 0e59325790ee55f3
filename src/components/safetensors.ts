/**
 * The safetensors format, for sCM Lab's own checkpoints: an 8-byte little-endian header length N, N bytes of
 * JSON ({name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__": {string: string}}), then the raw
 * little-endian tensor bytes. Only float32 ("F32") tensors are written. Reading validates everything before
 * touching the data, and never evaluates anything from the file.
 */
import type { NamedArray } from "./nn/parameters.js";

export class CheckpointFormatError extends Error {}

/** Serialise named float32 arrays with string metadata (e.g. the model config as JSON). */
export function writeSafetensors(tensors: Record<string, NamedArray>, metadata: Record<string, string> = {}): Uint8Array {
  const header: Record<string, unknown> = { __metadata__: metadata };
  let offset = 0;
  const names = Object.keys(tensors).sort();
  for (const name of names) {
    const { shape, data } = tensors[name];
    if (shape.reduce((a, b) => a * b, 1) !== data.length) throw new RangeError(`"${name}": shape [${shape}] does not hold ${data.length} values`);
    header[name] = { dtype: "F32", shape, data_offsets: [offset, offset + 4 * data.length] };
    offset += 4 * data.length;
  }
  // Pad the header with spaces so the data starts 8-byte aligned (allowed by the format).
  let json = JSON.stringify(header);
  json += " ".repeat((8 - ((8 + new TextEncoder().encode(json).length) % 8)) % 8);
  const headerBytes = new TextEncoder().encode(json);
  const out = new Uint8Array(8 + headerBytes.length + offset);
  const view = new DataView(out.buffer);
  view.setBigUint64(0, BigInt(headerBytes.length), true);
  out.set(headerBytes, 8);
  let position = 8 + headerBytes.length;
  for (const name of names) {
    const data = tensors[name].data;
    for (let i = 0; i < data.length; i++) view.setFloat32(position + 4 * i, data[i], true);
    position += 4 * data.length;
  }
  return out;
}

export interface SafetensorsContents {
  tensors: Record<string, NamedArray>;
  metadata: Record<string, string>;
}

/** Parse and validate a whole safetensors file held in memory. Errors say what is wrong, in one line. */
export function readSafetensors(bytes: Uint8Array): SafetensorsContents {
  if (bytes.length < 8) throw new CheckpointFormatError(`not a safetensors file: only ${bytes.length} bytes`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = Number(view.getBigUint64(0, true));
  if (headerLength > bytes.length - 8) {
    throw new CheckpointFormatError(`not a safetensors file, or truncated: the header claims ${headerLength} bytes but only ${bytes.length - 8} follow`);
  }
  let header: Record<string, unknown>;
  try {
    header = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes.subarray(8, 8 + headerLength)));
  } catch {
    throw new CheckpointFormatError("not a safetensors file: its header is not JSON");
  }
  if (typeof header !== "object" || header === null || Array.isArray(header)) throw new CheckpointFormatError("not a safetensors file: its header is not a JSON object");
  const dataStart = 8 + headerLength;
  const dataLength = bytes.length - dataStart;
  const metadata = (header.__metadata__ ?? {}) as Record<string, string>;
  const tensors: Record<string, NamedArray> = {};
  const ranges: [number, number, string][] = [];
  for (const [name, entry] of Object.entries(header)) {
    if (name === "__metadata__") continue;
    const { dtype, shape, data_offsets: offsets } = entry as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    if (dtype !== "F32") throw new CheckpointFormatError(`tensor "${name}" has dtype ${String(dtype)}; sCM Lab checkpoints hold F32 only`);
    if (!Array.isArray(shape) || !shape.every((d) => Number.isInteger(d) && d >= 0)) throw new CheckpointFormatError(`tensor "${name}" has an invalid shape`);
    if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every((o) => Number.isInteger(o) && o >= 0) || offsets[0] > offsets[1]) {
      throw new CheckpointFormatError(`tensor "${name}" has invalid data offsets`);
    }
    const [begin, end] = offsets as [number, number];
    if (end > dataLength) throw new CheckpointFormatError(`tensor "${name}" ends at byte ${end} but the file holds ${dataLength} data bytes (truncated?)`);
    const count = (shape as number[]).reduce((a, b) => a * b, 1);
    if (end - begin !== 4 * count) throw new CheckpointFormatError(`tensor "${name}": shape [${shape}] needs ${4 * count} bytes, offsets give ${end - begin}`);
    ranges.push([begin, end, name]);
    const data = new Float32Array(count);
    for (let i = 0; i < count; i++) data[i] = view.getFloat32(dataStart + begin + 4 * i, true);
    tensors[name] = { shape: shape as number[], data };
  }
  ranges.sort((a, b) => a[0] - b[0]);
  for (let i = 1; i < ranges.length; i++) {
    if (ranges[i][0] < ranges[i - 1][1]) throw new CheckpointFormatError(`tensors "${ranges[i - 1][2]}" and "${ranges[i][2]}" overlap`);
  }
  return { tensors, metadata };
}
