/**
 * The safetensors header, parsed and validated before any tensor byte is used. The header is JSON read with
 * JSON.parse, nothing else: a checkpoint is data, never code.
 *
 * Layout: 8 bytes little-endian N, N bytes of UTF-8 JSON
 *   {"name": {"dtype": "F32", "shape": [2, 3], "data_offsets": [begin, end]}, ..., "__metadata__": {"k": "v"}}
 * then the data; offsets count from the start of the data (file offset 8 + N + begin), `end` exclusive.
 */
import { CheckpointFormatError } from "./errors.js";
import { DTYPE_BYTES, isKnownDtype, type SafetensorsDtype } from "./dtypes.js";

export interface TensorEntry {
  name: string;
  dtype: SafetensorsDtype;
  shape: number[];
  /** Offsets into the data section (after the header); `end` is exclusive. */
  begin: number;
  end: number;
}

export interface SafetensorsHeader {
  metadata: Record<string, string>;
  /** Every tensor, in the order of its bytes in the file. */
  tensors: TensorEntry[];
  /** File offset of the data section: 8 + the JSON length. */
  dataStart: number;
  /** Bytes of data the tensors reach into (the largest `end`). */
  dataEnd: number;
}

/**
 * Parse and validate the JSON header. `dataLength` (bytes after the header) is checked against the offsets
 * when it is known; a streamed file of unknown size is checked for truncation as its bytes arrive.
 */
export function parseSafetensorsHeader(json: Uint8Array, dataStart: number, dataLength?: number): SafetensorsHeader {
  let parsed: unknown;
  try {
    parsed = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(json));
  } catch (error) {
    const why = error instanceof TypeError ? "it is not UTF-8 text" : "it does not parse";
    throw new CheckpointFormatError(`not a safetensors file: its header is not JSON (${why})`);
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    const kind = Array.isArray(parsed) ? "an array" : parsed === null ? "null" : `a ${typeof parsed}`;
    throw new CheckpointFormatError(`not a safetensors file: its header is JSON but ${kind}, not an object`);
  }
  let metadata: Record<string, string> = {};
  const tensors: TensorEntry[] = [];
  for (const [name, value] of Object.entries(parsed)) {
    if (name === "__metadata__") metadata = parseMetadata(value);
    else tensors.push(parseEntry(name, value));
  }
  tensors.sort((a, b) => a.begin - b.begin || a.end - b.end);
  // The format requires the tensors to cover the data exactly, back to back from byte 0: a hole or an overlap
  // could hide other content in the file (a polyglot), so both are errors, as in the reference implementation.
  let dataEnd = 0;
  let previous: TensorEntry | undefined;
  for (const t of tensors) {
    if (t.begin > dataEnd) {
      const after = previous ? `after tensor "${previous.name}" (which ends at data byte ${dataEnd})` : "at the start of the data";
      throw new CheckpointFormatError(`the tensors leave a hole of ${t.begin - dataEnd} bytes ${after}: "${t.name}" begins at data byte ${t.begin}`);
    }
    if (t.begin < dataEnd) {
      throw new CheckpointFormatError(`tensors "${previous!.name}" and "${t.name}" overlap (data bytes ${previous!.begin}–${previous!.end} and ${t.begin}–${t.end})`);
    }
    dataEnd = t.end;
    previous = t;
  }
  const header = { metadata, tensors, dataStart, dataEnd };
  if (dataLength !== undefined) checkDataLength(header, dataLength);
  return header;
}

/** Refuse offsets beyond the data the file holds, and bytes after the last tensor. */
export function checkDataLength(header: SafetensorsHeader, dataLength: number): void {
  for (const t of header.tensors) {
    if (t.end > dataLength) {
      throw new CheckpointFormatError(`tensor "${t.name}" ends at byte ${t.end} of the data but the file holds only ${dataLength} data bytes (truncated?)`);
    }
  }
  if (dataLength > header.dataEnd) {
    throw new CheckpointFormatError(`the file has ${dataLength - header.dataEnd} bytes after its last tensor (safetensors data must end where the tensors do)`);
  }
}

/** Number of values of a tensor of this shape. */
export function elementCount(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

function parseMetadata(value: unknown): Record<string, string> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new CheckpointFormatError("the header's __metadata__ is not a JSON object of strings");
  }
  const metadata: Record<string, string> = {};
  for (const [key, text] of Object.entries(value)) {
    if (typeof text !== "string") throw new CheckpointFormatError(`the header's __metadata__ must map strings to strings, but "${key}" holds a ${typeof text}`);
    // defineProperty, not assignment: a key "__proto__" must stay a plain entry.
    Object.defineProperty(metadata, key, { value: text, enumerable: true, writable: true, configurable: true });
  }
  return metadata;
}

function parseEntry(name: string, value: unknown): TensorEntry {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new CheckpointFormatError(`tensor "${name}": its header entry is not a JSON object`);
  }
  const { dtype, shape, data_offsets: offsets } = value as Record<string, unknown>;
  if (!isKnownDtype(dtype)) throw new CheckpointFormatError(`tensor "${name}" has an unknown dtype ${JSON.stringify(dtype) ?? "(none)"}`);
  if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
    throw new CheckpointFormatError(`tensor "${name}" has an invalid shape ${JSON.stringify(shape) ?? "(none)"}: it must be an array of non-negative integers`);
  }
  if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every((o) => Number.isSafeInteger(o) && o >= 0) || offsets[0] > offsets[1]) {
    throw new CheckpointFormatError(`tensor "${name}" has invalid data_offsets ${JSON.stringify(offsets) ?? "(none)"}: they must be [begin, end] with 0 ≤ begin ≤ end`);
  }
  const [begin, end] = offsets as [number, number];
  const bytes = elementCount(shape) * DTYPE_BYTES[dtype];
  if (end - begin !== bytes) {
    throw new CheckpointFormatError(`tensor "${name}": shape [${shape.join(", ")}] of ${dtype} needs ${bytes} bytes, but its data_offsets span ${end - begin}`);
  }
  return { name, dtype, shape: shape as number[], begin, end };
}
