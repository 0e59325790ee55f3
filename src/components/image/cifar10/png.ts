/**
 * A small PNG decoder for exactly what the CIFAR-10 sprites are: 8-bit RGB (colour type 2), not interlaced.
 * Anything else is refused with a reason rather than decoded wrongly. zlib is injected (`inflate`), so this
 * module stays pure: Node passes zlib.inflateSync, a test can pass anything.
 *
 * It checks every chunk's CRC, so a damaged file fails here with the chunk named, not later as odd pixels.
 */
import { Cifar10DataError } from "./errors.js";
import { concatenate } from "../../checkpoint/byte-source.js";
import { describeError } from "../../checkpoint/errors.js";

/** zlib-format (RFC 1950) decompression of the concatenated IDAT data. Must throw on corrupt input. */
export type Inflate = (compressed: Uint8Array) => Uint8Array;

export interface DecodedPng {
  width: number;
  height: number;
  /** height × width × 3 bytes, row-major, RGB interleaved. */
  pixels: Uint8Array;
}

const SIGNATURE = [137, 80, 78, 71, 13, 10, 26, 10];

export function decodePng(bytes: Uint8Array, inflate: Inflate, what = "PNG"): DecodedPng {
  const fail = (reason: string): never => {
    throw new Cifar10DataError(`${what}: ${reason}`);
  };
  if (bytes.length < 8 || SIGNATURE.some((b, i) => bytes[i] !== b)) fail("not a PNG file (wrong signature)");
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let width = 0;
  let height = 0;
  const idat: Uint8Array[] = [];
  let ended = false;
  for (let at = 8; at < bytes.length && !ended; ) {
    if (at + 12 > bytes.length) fail(`chunk at byte ${at} is cut off (truncated file)`);
    const length = view.getUint32(at);
    const type = String.fromCharCode(...bytes.subarray(at + 4, at + 8));
    if (at + 12 + length > bytes.length) fail(`${type} chunk at byte ${at} needs ${length} bytes but the file ends first (truncated file)`);
    const data = bytes.subarray(at + 8, at + 8 + length);
    if (crc32(bytes.subarray(at + 4, at + 8 + length)) !== view.getUint32(at + 8 + length)) fail(`${type} chunk at byte ${at} has a bad CRC (corrupt file)`);
    if (at === 8 && type !== "IHDR") fail(`first chunk is ${type}, expected IHDR`);
    if (type === "IHDR") {
      if (length !== 13) fail(`IHDR has ${length} bytes, expected 13`);
      width = view.getUint32(at + 8);
      height = view.getUint32(at + 12);
      const [depth, colour, compression, filter, interlace] = data.subarray(8, 13);
      if (depth !== 8 || colour !== 2) fail(`bit depth ${depth}, colour type ${colour}: only 8-bit RGB (colour type 2) is supported`);
      if (compression !== 0 || filter !== 0) fail(`unknown compression method ${compression} or filter method ${filter}`);
      if (interlace !== 0) fail("interlaced PNGs are not supported");
      if (width === 0 || height === 0) fail(`empty image (${width}×${height})`);
    } else if (type === "IDAT") idat.push(data);
    else if (type === "IEND") ended = true;
    // Ancillary chunks (gAMA, tEXt, …) do not change the stored bytes: ignored.
    at += 12 + length;
  }
  if (!ended) fail("no IEND chunk (truncated file)");
  if (idat.length === 0) fail("no IDAT chunk (no image data)");

  let raw: Uint8Array;
  try {
    raw = inflate(concatenate(idat));
  } catch (error) {
    fail(`image data does not decompress (${describeError(error)})`);
  }
  const stride = width * 3;
  if (raw!.length !== height * (stride + 1)) fail(`image data has ${raw!.length} bytes, expected ${height * (stride + 1)} for ${width}×${height} RGB`);
  return { width, height, pixels: unfilter(raw!, width, height, what) };
}

/**
 * Undo the per-row filters (PNG spec §9): each row starts with a filter type byte, 0 None, 1 Sub, 2 Up,
 * 3 Average, 4 Paeth, each predicting a byte from its left (a), upper (b) and upper-left (c) neighbours
 * three bytes apart (one RGB pixel).
 */
function unfilter(raw: Uint8Array, width: number, height: number, what: string): Uint8Array {
  const stride = width * 3;
  const out = new Uint8Array(height * stride);
  const zeros = new Uint8Array(stride);
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)];
    const src = raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1));
    const row = out.subarray(y * stride, (y + 1) * stride);
    const up = y > 0 ? out.subarray((y - 1) * stride, y * stride) : zeros;
    switch (filter) {
      case 0:
        row.set(src);
        break;
      case 1:
        for (let i = 0; i < stride; i++) row[i] = src[i] + (i >= 3 ? row[i - 3] : 0);
        break;
      case 2:
        for (let i = 0; i < stride; i++) row[i] = src[i] + up[i];
        break;
      case 3:
        for (let i = 0; i < stride; i++) row[i] = src[i] + (((i >= 3 ? row[i - 3] : 0) + up[i]) >> 1);
        break;
      case 4:
        for (let i = 0; i < stride; i++) {
          const a = i >= 3 ? row[i - 3] : 0;
          const b = up[i];
          const c = i >= 3 ? up[i - 3] : 0;
          const p = a + b - c;
          const pa = Math.abs(p - a);
          const pb = Math.abs(p - b);
          const pc = Math.abs(p - c);
          row[i] = src[i] + (pa <= pb && pa <= pc ? a : pb <= pc ? b : c);
        }
        break;
      default:
        throw new Cifar10DataError(`${what}: row ${y} has unknown filter type ${filter} (corrupt file)`);
    }
  }
  return out;
}

let crcTable: Uint32Array | undefined;

/** CRC-32 (ISO-HDLC, the one PNG and gzip use). */
export function crc32(bytes: Uint8Array): number {
  if (!crcTable) {
    crcTable = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      crcTable[n] = c >>> 0;
    }
  }
  let crc = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) crc = crcTable[(crc ^ bytes[i]) & 0xff] ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}
