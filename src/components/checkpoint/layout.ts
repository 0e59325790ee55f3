/**
 * The writing side of the header: given tensor names, dtypes and shapes, place them one after the other and
 * encode the 8-byte length plus the JSON header. Writers then append each tensor's bytes in the same order.
 * Used by the whole-file writer and by tests and benchmarks that build checkpoints tensor by tensor (a
 * 120 MB benchmark file never has to exist in memory).
 */
import { DTYPE_BYTES, type SafetensorsDtype } from "./dtypes.js";
import { elementCount } from "./header.js";

export interface TensorSpec {
  name: string;
  dtype: SafetensorsDtype;
  shape: number[];
}

export interface SafetensorsLayout {
  /** The first bytes of the file: the header length and the JSON header, padded so the data is 8-byte aligned. */
  prefix: Uint8Array;
  /** The tensors in file order, with their data offsets. */
  tensors: (TensorSpec & { begin: number; end: number })[];
  /** Size of the whole file. */
  fileSize: number;
}

/** Lay tensors out in the given order; the header lists metadata first, then the tensors in that order. */
export function layoutSafetensors(tensors: readonly TensorSpec[], metadata: Record<string, string> = {}): SafetensorsLayout {
  const header: Record<string, unknown> = { __metadata__: metadata };
  const placed: SafetensorsLayout["tensors"] = [];
  let offset = 0;
  for (const { name, dtype, shape } of tensors) {
    if (name === "__metadata__" || Object.prototype.hasOwnProperty.call(header, name)) throw new RangeError(`tensor name "${name}" is reserved or repeated`);
    const end = offset + elementCount(shape) * DTYPE_BYTES[dtype];
    // defineProperty, not assignment: a tensor called "__proto__" must stay a plain entry.
    Object.defineProperty(header, name, { value: { dtype, shape, data_offsets: [offset, end] }, enumerable: true });
    placed.push({ name, dtype, shape, begin: offset, end });
    offset = end;
  }
  const encoder = new TextEncoder();
  let json = JSON.stringify(header);
  // Pad with spaces (which the format allows) so the data starts at a multiple of 8.
  json += " ".repeat((8 - ((8 + encoder.encode(json).length) % 8)) % 8);
  const jsonBytes = encoder.encode(json);
  const prefix = new Uint8Array(8 + jsonBytes.length);
  new DataView(prefix.buffer).setBigUint64(0, BigInt(jsonBytes.length), true);
  prefix.set(jsonBytes, 8);
  return { prefix, tensors: placed, fileSize: prefix.length + offset };
}

/** A whole file from tensors given as raw little-endian bytes of any dtype (e.g. F16 bit patterns). */
export function encodeSafetensors(tensors: readonly (TensorSpec & { bytes: Uint8Array })[], metadata: Record<string, string> = {}): Uint8Array<ArrayBuffer> {
  const layout = layoutSafetensors(tensors, metadata);
  const out = new Uint8Array(layout.fileSize);
  out.set(layout.prefix);
  layout.tensors.forEach(({ name, begin, end }, i) => {
    if (tensors[i].bytes.length !== end - begin) throw new RangeError(`"${name}": ${tensors[i].bytes.length} bytes given, its shape needs ${end - begin}`);
    out.set(tensors[i].bytes, layout.prefix.length + begin);
  });
  return out;
}
