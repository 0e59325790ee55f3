/**
 * Safetensors dtypes: their sizes (for validating headers) and the decoding of the three float formats we
 * read into float32. TF.js has no float16 tensors, so F16 and BF16 weights are widened to float32; the
 * widening is exact (every half and bfloat16 value is a float32 value), so it is done on the bit patterns,
 * which keeps ±0, subnormals, infinities and even NaN payloads intact.
 *
 * F64, the integer types and BOOL are known (a header holding them is valid and can be inspected) but not
 * decoded: narrowing F64 to float32 loses precision and range silently, and integer tensors in checkpoints
 * are indices or counters (position ids, step counts) that should not become float weights. A checkpoint
 * that needs them should be converted to F32 offline, where the choice is visible.
 */
import type { StreamedDtype } from "./streamed-tensor.js";

/** Bytes per element of every dtype the safetensors format defines with a whole number of bytes. */
export const DTYPE_BYTES = {
  F64: 8,
  F32: 4,
  F16: 2,
  BF16: 2,
  I64: 8,
  I32: 4,
  I16: 2,
  I8: 1,
  U64: 8,
  U32: 4,
  U16: 2,
  U8: 1,
  BOOL: 1,
  F8_E4M3: 1,
  F8_E5M2: 1,
  F8_E8M0: 1,
} as const;

export type SafetensorsDtype = keyof typeof DTYPE_BYTES;

export function isKnownDtype(dtype: unknown): dtype is SafetensorsDtype {
  return typeof dtype === "string" && Object.prototype.hasOwnProperty.call(DTYPE_BYTES, dtype);
}

export function isDecodableDtype(dtype: SafetensorsDtype): dtype is StreamedDtype {
  return dtype === "F32" || dtype === "F16" || dtype === "BF16";
}

/** The float32 bit pattern of an IEEE binary16 value given by its 16 bits. */
export function halfBitsToFloat32Bits(half: number): number {
  const sign = (half & 0x8000) << 16;
  const exponent = (half >> 10) & 0x1f;
  let fraction = half & 0x3ff;
  if (exponent === 0x1f) return (sign | 0x7f800000 | (fraction << 13)) >>> 0; // ±Infinity, NaN (payload kept)
  if (exponent !== 0) return (sign | ((exponent + 112) << 23) | (fraction << 13)) >>> 0; // rebias 15 → 127
  if (fraction === 0) return sign >>> 0; // ±0
  // Subnormal half: fraction × 2^−24. Shift the leading 1 up to the implicit-bit position (bit 10); each
  // shift lowers the float32 exponent by one from that of 2^−14 (the smallest normal half).
  let exponent32 = 127 - 14;
  while ((fraction & 0x400) === 0) {
    fraction <<= 1;
    exponent32--;
  }
  return (sign | (exponent32 << 23) | ((fraction & 0x3ff) << 13)) >>> 0;
}

/** The float32 bit pattern of a bfloat16 value: bfloat16 is the top half of a float32. */
export function bfloat16BitsToFloat32Bits(bits: number): number {
  return (bits << 16) >>> 0;
}

const scratch = new DataView(new ArrayBuffer(4));
function float32FromBits(bits: number): number {
  scratch.setUint32(0, bits);
  return scratch.getFloat32(0);
}

/** The value of an IEEE binary16 number given by its 16 bits. */
export function halfToFloat(half: number): number {
  return float32FromBits(halfBitsToFloat32Bits(half));
}

/** The value of a bfloat16 number given by its 16 bits. */
export function bfloat16ToFloat(bits: number): number {
  return float32FromBits(bfloat16BitsToFloat32Bits(bits));
}

/** All 65536 half → float32 conversions, built on first use (256 KB): one lookup per element afterwards. */
let halfTable: Uint32Array | undefined;
function halfToFloat32Table(): Uint32Array {
  if (!halfTable) {
    halfTable = new Uint32Array(65536);
    for (let h = 0; h < 65536; h++) halfTable[h] = halfBitsToFloat32Bits(h);
  }
  return halfTable;
}

const LITTLE_ENDIAN_PLATFORM = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/**
 * Decodes one tensor from its little-endian bytes, delivered in pieces of any length (network chunks need
 * not end on element boundaries), straight into the float32 array that will be handed out: the reader holds
 * no second copy of the tensor.
 */
export class TensorDecoder {
  readonly values: Float32Array;
  /** Bytes of the tensor in the file. */
  readonly byteLength: number;
  private received = 0;
  private readonly bytes: Uint8Array; // the output's bytes (F32: the file bytes are copied in as they are)
  private readonly bits: Uint32Array; // the output's float32 bit patterns, in platform order (F16, BF16)
  private pendingByte = -1; // low byte of a 16-bit element whose high byte is in the next piece

  constructor(
    readonly dtype: StreamedDtype,
    count: number,
  ) {
    this.values = new Float32Array(count);
    this.byteLength = count * DTYPE_BYTES[dtype];
    this.bytes = new Uint8Array(this.values.buffer);
    this.bits = new Uint32Array(this.values.buffer);
  }

  get remaining(): number {
    return this.byteLength - this.received;
  }

  /** Take the next bytes of the tensor; `piece` must not run past its end. */
  write(piece: Uint8Array): void {
    if (piece.length > this.remaining) throw new RangeError(`${piece.length} bytes given, ${this.remaining} expected`);
    if (this.dtype === "F32") this.bytes.set(piece, this.received);
    else this.write16(piece);
    this.received += piece.length;
    if (this.remaining === 0 && this.dtype === "F32" && !LITTLE_ENDIAN_PLATFORM) this.swapF32Bytes();
  }

  private write16(piece: Uint8Array): void {
    const widen = this.dtype === "F16" ? halfToFloat32Table() : undefined;
    let element = this.received >> 1; // also right when a byte is pending: received is odd then
    let i = 0;
    if (this.pendingByte >= 0 && piece.length > 0) {
      const bits16 = this.pendingByte | (piece[0] << 8);
      this.bits[element++] = widen ? widen[bits16] : bfloat16BitsToFloat32Bits(bits16);
      this.pendingByte = -1;
      i = 1;
    }
    const bits = this.bits;
    if (widen) {
      for (; i + 1 < piece.length; i += 2) bits[element++] = widen[piece[i] | (piece[i + 1] << 8)];
    } else {
      for (; i + 1 < piece.length; i += 2) bits[element++] = ((piece[i] | (piece[i + 1] << 8)) << 16) >>> 0;
    }
    if (i < piece.length) this.pendingByte = piece[i];
  }

  private swapF32Bytes(): void {
    const b = this.bytes;
    for (let i = 0; i < b.length; i += 4) {
      [b[i], b[i + 3]] = [b[i + 3], b[i]];
      [b[i + 1], b[i + 2]] = [b[i + 2], b[i + 1]];
    }
  }
}
