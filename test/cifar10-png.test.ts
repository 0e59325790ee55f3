import { test } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { crc32 as zlibCrc32, deflateSync, inflateSync } from "node:zlib";
import { Cifar10DataError } from "../src/components/image/cifar10/errors.ts";
import { crc32, decodePng } from "../src/components/image/cifar10/png.ts";
import { encodePng, pngChunk } from "./fixtures/cifar10/synthetic.ts";
import { concatenate } from "../src/components/checkpoint/byte-source.ts";

const inflate = (bytes: Uint8Array) => inflateSync(bytes);

test("known answer: filter types 0–4 (Paeth choosing a, b and c) reconstruct the bytes the PNG spec gives", () => {
  // Filtered rows of a 2×6 RGB image and the raw bytes, computed by a literal transcription of the PNG
  // spec's reconstruction functions (§9.2–9.4), independent of both the decoder and the test encoder.
  // The two Paeth rows pick the predictor b, a, b, c, c, c; the Average row has odd sums; Sub and Up wrap.
  const filtered = [
    [0, 121, 66, 189, 242, 33, 6],
    [1, 240, 132, 119, 98, 240, 243],
    [2, 203, 77, 118, 77, 199, 7],
    [3, 32, 81, 21, 154, 15, 137],
    [4, 242, 198, 218, 202, 227, 68],
    [4, 187, 49, 18, 69, 253, 111],
  ];
  const raw = [
    [121, 66, 189, 242, 33, 6],
    [240, 132, 119, 82, 116, 106],
    [187, 209, 237, 159, 59, 113],
    [125, 185, 139, 40, 137, 7],
    [111, 127, 101, 242, 98, 75],
    [42, 176, 119, 180, 124, 212],
  ];
  const ihdr = Uint8Array.from([0, 0, 0, 2, 0, 0, 0, 6, 8, 2, 0, 0, 0]);
  const png = concatenate([
    Uint8Array.from([137, 80, 78, 71, 13, 10, 26, 10]),
    pngChunk("IHDR", ihdr),
    pngChunk("IDAT", deflateSync(Uint8Array.from(filtered.flat()))),
    pngChunk("IEND", new Uint8Array(0)),
  ]);
  const decoded = decodePng(png, inflate);
  assert.equal(decoded.width, 2);
  assert.equal(decoded.height, 6);
  assert.deepEqual(Array.from(decoded.pixels), raw.flat());
});

test("round trip: a 1024×20 sprite with every filter type, split IDAT chunks and a tEXt chunk", () => {
  const pixels = new Uint8Array(randomBytes(1024 * 20 * 3));
  for (const filterOf of [(y: number) => y % 5, () => 0, () => 1, () => 2, () => 3, () => 4]) {
    const decoded = decodePng(encodePng(1024, 20, pixels, { filterOf, idatSize: 1000 }), inflate, "sprite");
    assert.equal(decoded.width, 1024);
    assert.equal(decoded.height, 20);
    assert.ok(Buffer.from(decoded.pixels).equals(Buffer.from(pixels)));
  }
});

test("crc32 agrees with zlib's", () => {
  assert.equal(crc32(new TextEncoder().encode("123456789")), 0xcbf43926);
  const bytes = new Uint8Array(randomBytes(10000));
  assert.equal(crc32(bytes), zlibCrc32(bytes));
  assert.equal(crc32(new Uint8Array(0)), 0);
});

test("damaged or unsupported PNGs are refused with one clear message each", () => {
  const pixels = new Uint8Array(randomBytes(8 * 4 * 3));
  const good = encodePng(8, 4, pixels, { idatSize: 30 });
  const flipped = good.slice();
  flipped[8 + 25 + 29 + 8 + 5] ^= 0x10; // signature, IHDR, tEXt, then inside the first IDAT chunk's data
  const corruptStream = concatenate([
    good.subarray(0, 33), // signature + IHDR
    pngChunk("IDAT", Uint8Array.from([0x78, 0x9c, 0xff, 0xff, 0xff, 0x00])),
    pngChunk("IEND", new Uint8Array(0)),
  ]);
  const shortData = concatenate([good.subarray(0, 33), pngChunk("IDAT", deflateSync(new Uint8Array(10))), pngChunk("IEND", new Uint8Array(0))]);
  const noIdat = concatenate([good.subarray(0, 33), pngChunk("IEND", new Uint8Array(0))]);
  const cases: [Uint8Array, RegExp][] = [
    [new TextEncoder().encode("<html>not found</html>"), /^x\.png: not a PNG file/],
    [good.subarray(0, good.length - 20), /truncated file/],
    [good.subarray(0, good.length - 12), /no IEND chunk \(truncated file\)/],
    [flipped, /IDAT chunk at byte \d+ has a bad CRC \(corrupt file\)/],
    [encodePng(8, 4, pixels, { colourType: 6 }), /colour type 6: only 8-bit RGB/],
    [encodePng(8, 4, pixels, { interlace: 1 }), /interlaced PNGs are not supported/],
    [encodePng(8, 4, pixels, { filterOf: (y) => (y === 2 ? 7 : 0) }), /row 2 has unknown filter type 7/],
    [corruptStream, /image data does not decompress/],
    [shortData, /image data has 10 bytes, expected 100 for 8×4 RGB/],
    [noIdat, /no IDAT chunk/],
  ];
  for (const [bytes, message] of cases) {
    assert.throws(() => decodePng(bytes, inflate, "x.png"), (e: unknown) => e instanceof Cifar10DataError && message.test(e.message) && !e.message.includes("\n"), `expected ${message}`);
  }
});
