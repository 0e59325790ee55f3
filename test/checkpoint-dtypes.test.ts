import { test } from "node:test";
import assert from "node:assert/strict";
import { bfloat16ToFloat, halfBitsToFloat32Bits, halfToFloat, TensorDecoder } from "../src/components/checkpoint/dtypes.ts";

const bitsOf = (x: number) => {
  const view = new DataView(new ArrayBuffer(4));
  view.setFloat32(0, x);
  return view.getUint32(0);
};

test("half → float on known bit patterns: zeros, subnormals, normals, max, infinities, NaN", () => {
  const cases: [number, number][] = [
    [0x0000, 0],
    [0x8000, -0],
    [0x0001, 2 ** -24], // smallest subnormal
    [0x8001, -(2 ** -24)],
    [0x0200, 2 ** -15], // a subnormal with its leading one in the middle
    [0x03ff, 1023 * 2 ** -24], // largest subnormal
    [0x0400, 2 ** -14], // smallest normal
    [0x3c00, 1],
    [0x3c01, 1 + 2 ** -10],
    [0xc000, -2],
    [0x3555, 0.333251953125],
    [0x7bff, 65504], // largest half
    [0xfbff, -65504],
    [0x7c00, Infinity],
    [0xfc00, -Infinity],
  ];
  for (const [bits, expected] of cases) assert.ok(Object.is(halfToFloat(bits), expected), `half 0x${bits.toString(16)} → ${halfToFloat(bits)}, expected ${expected}`);
  assert.ok(Number.isNaN(halfToFloat(0x7e00)));
  assert.ok(Number.isNaN(halfToFloat(0xfe01)));
  // NaN payloads and signs survive: the fraction moves up by 13 bits.
  assert.equal(halfBitsToFloat32Bits(0x7c01), 0x7f802000);
  assert.equal(halfBitsToFloat32Bits(0xfe00), 0xffc00000);
});

test("half → float agrees with the textbook formula on all 65536 bit patterns", () => {
  for (let h = 0; h < 65536; h++) {
    const sign = h & 0x8000 ? -1 : 1;
    const exponent = (h >> 10) & 0x1f;
    const fraction = h & 0x3ff;
    const expected = exponent === 0 ? sign * fraction * 2 ** -24 : exponent === 31 ? (fraction ? NaN : sign * Infinity) : sign * 2 ** (exponent - 15) * (1 + fraction / 1024);
    const got = halfToFloat(h);
    if (!Object.is(got, expected)) assert.fail(`half 0x${h.toString(16)}: got ${got}, expected ${expected}`);
  }
});

test("bfloat16 → float on known bit patterns", () => {
  const cases: [number, number][] = [
    [0x0000, 0],
    [0x8000, -0],
    [0x3f80, 1],
    [0xc000, -2],
    [0x4049, 3.140625],
    [0x0001, 2 ** -133], // smallest subnormal
    [0x0080, 2 ** -126], // smallest normal
    [0x7f7f, 3.3895313892515355e38], // largest finite
    [0x7f80, Infinity],
    [0xff80, -Infinity],
  ];
  for (const [bits, expected] of cases) assert.ok(Object.is(bfloat16ToFloat(bits), expected), `bf16 0x${bits.toString(16)} → ${bfloat16ToFloat(bits)}, expected ${expected}`);
  assert.ok(Number.isNaN(bfloat16ToFloat(0x7fc0)));
});

/** Feed `bytes` to a decoder in pieces of the given sizes (cycled). */
function decodeInPieces(dtype: "F32" | "F16" | "BF16", count: number, bytes: Uint8Array, sizes: number[]): Float32Array {
  const decoder = new TensorDecoder(dtype, count);
  for (let at = 0, i = 0; at < bytes.length; i++) {
    const size = Math.min(sizes[i % sizes.length], bytes.length - at);
    decoder.write(bytes.subarray(at, at + size));
    at += size;
  }
  assert.equal(decoder.remaining, 0);
  return decoder.values;
}

test("the decoder gives the same bits however the bytes are split, odd boundaries included", () => {
  const halves = Uint16Array.from([0x3c00, 0x7bff, 0x0001, 0x8000, 0x7c01, 0xc000, 0x3555]);
  const halfBytes = new Uint8Array(halves.buffer.slice(0)); // little-endian on every platform Node runs on
  const expectedHalf = Uint32Array.from(halves, (h) => halfBitsToFloat32Bits(h));
  const floats = Uint32Array.from([0x3f800000, 0x7fa00001 /* signalling NaN with a payload */, 0x80000000, 0x00000001, 0xff800000]);
  const floatBytes = new Uint8Array(floats.buffer.slice(0));
  for (const sizes of [[1], [3], [2, 5], [7, 1, 4], [1000]]) {
    assert.deepEqual(new Uint32Array(decodeInPieces("F16", halves.length, halfBytes, sizes).buffer), expectedHalf);
    assert.deepEqual(new Uint32Array(decodeInPieces("BF16", halves.length, halfBytes, sizes).buffer), Uint32Array.from(halves, (h) => (h << 16) >>> 0));
    assert.deepEqual(new Uint32Array(decodeInPieces("F32", floats.length, floatBytes, sizes).buffer), floats);
  }
  assert.equal(bitsOf(decodeInPieces("F16", 1, new Uint8Array([0x00, 0x3c]), [1])[0]), 0x3f800000);
  assert.throws(() => new TensorDecoder("F32", 1).write(new Uint8Array(5)), RangeError);
});
