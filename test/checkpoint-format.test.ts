/**
 * Wrong and broken files: each is refused before any tensor is used, with one line that says what it is.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { blobSource } from "../src/components/checkpoint/blob-source.ts";
import { CheckpointFormatError } from "../src/components/checkpoint/errors.ts";
import { encodeSafetensors } from "../src/components/checkpoint/layout.ts";
import { openSafetensorsStream, readSafetensorsHeader } from "../src/components/checkpoint/stream-reader.ts";

/** A file with this exact header text and `dataBytes` zero bytes of data. */
function withHeader(json: string, dataBytes = 64): Uint8Array<ArrayBuffer> {
  const header = new TextEncoder().encode(json);
  const out = new Uint8Array(8 + header.length + dataBytes);
  new DataView(out.buffer).setBigUint64(0, BigInt(header.length), true);
  out.set(header, 8);
  return out;
}
const entry = (dtype: string, shape: number[], begin: number, end: number) => ({ dtype, shape, data_offsets: [begin, end] });
const headerOf = (tensors: Record<string, unknown>, dataBytes = 64) => withHeader(JSON.stringify(tensors), dataBytes);
const bytesOf = (...values: number[]) => Uint8Array.from(values);
const text = (s: string) => new Uint8Array(new TextEncoder().encode(s));

async function refusal(bytes: Uint8Array<ArrayBuffer>, open = false): Promise<string> {
  const source = blobSource(new Blob([bytes]), "test.safetensors");
  try {
    if (open) await openSafetensorsStream(source);
    else await readSafetensorsHeader(source);
  } catch (error) {
    assert.ok(error instanceof CheckpointFormatError, `expected a CheckpointFormatError, got ${error}`);
    assert.ok(!error.message.includes("\n"), "one line");
    return error.message;
  }
  assert.fail("the file was accepted");
}

const good = encodeSafetensors([{ name: "w", dtype: "F32", shape: [4], bytes: new Uint8Array(16) }]);
const goodHeaderLength = Number(new DataView(good.buffer).getBigUint64(0, true));

const cases: [string, Uint8Array<ArrayBuffer>, RegExp][] = [
  ["empty file", new Uint8Array(0), /the file is empty/],
  ["fewer than 8 bytes", good.slice(0, 5), /truncated: only 5 bytes/],
  ["header length beyond the file", good.slice(0, 8 + goodHeaderLength - 3), new RegExp(`header claims ${goodHeaderLength} bytes but only ${goodHeaderLength - 3} follow`)],
  ["header length over the limit", bytesOf(1, 2, 3, 4, 5, 6, 7, 8, 9, 10), /header length of \d+ bytes, over the 100 MB limit/],
  ["header that is not JSON", withHeader("{not json"), /header is not JSON \(it does not parse\)/],
  ["header that is not UTF-8", withHeader('{"__metadata__": {"a": "?"}}').map((b) => (b === 0x3f ? 0xff : b)), /header is not JSON \(it is not UTF-8 text\)/],
  ["header that is JSON but an array", withHeader('["a"]'), /header is JSON but an array, not an object/],
  ["header that is JSON but a string", withHeader('"weights"'), /header is JSON but a string, not an object/],
  ["header that starts like nothing JSON", withHeader("<weights>"), /header is not JSON \(it does not start with '\{'\)/],
  ["offsets out of range (truncated data)", good.slice(0, good.length - 4), /tensor "w" ends at byte 16 of the data but the file holds only 12 data bytes \(truncated\?\)/],
  ["offsets out of range", headerOf({ x: entry("F32", [100], 0, 400) }), /tensor "x" ends at byte 400/],
  ["overlapping tensors", headerOf({ x: entry("F32", [2], 0, 8), y: entry("F32", [2], 4, 12) }), /tensors "x" and "y" overlap \(data bytes 0–8 and 4–12\)/],
  // The data must be covered exactly, from byte 0 to the end of the file: no place for other content.
  ["a hole before the first tensor", headerOf({ x: entry("F32", [1], 4, 8) }, 8), /hole of 4 bytes at the start of the data: "x" begins at data byte 4/],
  ["a hole between tensors", headerOf({ x: entry("F32", [1], 0, 4), y: entry("F32", [1], 12, 16) }, 16), /hole of 8 bytes after tensor "x" \(which ends at data byte 4\): "y" begins at data byte 12/],
  ["an empty tensor pointing past the others", headerOf({ x: entry("F32", [1], 0, 4), e: entry("F32", [0], 8, 8) }, 4), /hole of 4 bytes after tensor "x"/],
  ["bytes after the last tensor", headerOf({ x: entry("F32", [1], 0, 4) }, 9), /the file has 5 bytes after its last tensor/],
  ["shape and bytes disagree", headerOf({ x: entry("F32", [2], 0, 4) }), /tensor "x": shape \[2\] of F32 needs 8 bytes, but its data_offsets span 4/],
  ["shape and bytes disagree (F16)", headerOf({ x: entry("F16", [3, 2], 0, 24) }), /needs 12 bytes/],
  ["unknown dtype", headerOf({ x: entry("F4X", [1], 0, 1) }), /tensor "x" has an unknown dtype "F4X"/],
  ["negative dimension", headerOf({ x: entry("F32", [-1], 0, 4) }), /tensor "x" has an invalid shape \[-1\]/],
  ["fractional dimension", headerOf({ x: entry("F32", [1.5], 0, 6) }), /invalid shape/],
  ["missing shape", headerOf({ x: { dtype: "F32", data_offsets: [0, 4] } }), /invalid shape \(none\)/],
  ["offsets reversed", headerOf({ x: entry("F32", [1], 8, 4) }), /invalid data_offsets \[8,4\]/],
  ["entry not an object", headerOf({ x: 3 }), /tensor "x": its header entry is not a JSON object/],
  ["metadata with a number", headerOf({ __metadata__: { epochs: 3 } }), /__metadata__ must map strings to strings, but "epochs" holds a number/],
  ["metadata not an object", headerOf({ __metadata__: "v1" }), /__metadata__ is not a JSON object/],
  ["PyTorch zip checkpoint", text("PK\x03\x04\x14\x00\x00\x00\x08\x00archive/data.pkl"), /not a safetensors file: this is a PyTorch \.bin\/\.pt zip checkpoint; convert it to safetensors/],
  ["legacy torch.save pickle (protocol 2)", bytesOf(0x80, 0x02, 0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19, 0x2e), /Python pickle .*convert it to safetensors/],
  ["pickle protocol 4", bytesOf(0x80, 0x04, 0x95, 0x2c, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x7d, 0x94), /Python pickle/],
  ["short pickle", bytesOf(0x80, 0x05, 0x4b), /Python pickle/],
  ["HTML error page", text("<!DOCTYPE html><html><body>404 Not Found</body></html>"), /not a safetensors file: this is an HTML page/],
  ["HTML without doctype, after white space", text("\n  <html lang=en><head><title>Sign in</title></head></html>"), /HTML page/],
  ["XML error from a storage server", text('<?xml version="1.0" encoding="UTF-8"?><Error><Code>AccessDenied</Code></Error>'), /XML document/],
  ["a gzip file", bytesOf(0x1f, 0x8b, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03), /gzip-compressed/],
  ["a Git LFS pointer", text("version https://git-lfs.github.com/spec/v1\noid sha256:4d7a…\nsize 1183593228\n"), /Git LFS pointer, not the file itself \(on Hugging Face, use the \/resolve\/ address/],
  ["a JSON file (an index)", text('{"metadata": {"total_size": 8}, "weight_map": {"w": "model-00001-of-00001.safetensors"}}'), /this is a JSON file \(a sharded checkpoint's \.index\.json/],
];

for (const [what, bytes, message] of cases) {
  test(`refused: ${what}`, async () => {
    assert.match(await refusal(bytes), message);
  });
}

test("refused when streaming: an unsupported dtype, named with its tensor (the header alone can still be inspected)", async () => {
  const file = headerOf({ "position_ids": entry("I64", [4], 0, 32), w: entry("F32", [1], 32, 36) }, 36);
  const header = await readSafetensorsHeader(blobSource(new Blob([file])));
  assert.deepEqual(
    header.tensors.map((t) => [t.name, t.dtype]),
    [["position_ids", "I64"], ["w", "F32"]],
  );
  assert.match(await refusal(file, true), /unsupported dtype I64 for tensor "position_ids": only F32, F16 and BF16/);
  assert.match(await refusal(headerOf({ x: entry("F64", [1], 0, 8) }, 8), true), /unsupported dtype F64 for tensor "x"/);
  assert.match(await refusal(headerOf({ m: entry("BOOL", [3], 0, 3) }, 3), true), /unsupported dtype BOOL for tensor "m"/);
});

test("a real file whose header length starts with the bytes of a pickle marker is not taken for a pickle", async () => {
  // Header length 0x0380 = 896: the file starts 0x80 0x03, like a protocol-3 pickle.
  const json = JSON.stringify({ w: entry("F32", [1], 0, 4) });
  const file = withHeader(json + " ".repeat(896 - json.length), 4);
  assert.deepEqual([...file.subarray(0, 2)], [0x80, 0x03]);
  const header = await readSafetensorsHeader(blobSource(new Blob([file])));
  assert.equal(header.dataStart, 8 + 896);
  assert.equal(header.tensors[0].name, "w");
});

test("valid corner cases: empty tensors, scalars, metadata, a tensor called __proto__", async () => {
  const file = headerOf(
    {
      __metadata__: { format: "pt" },
      scalar: entry("F32", [], 0, 4),
      empty: entry("F16", [0, 3], 4, 4),
      after_empty: entry("BF16", [2], 4, 8),
      ["__proto__"]: entry("F32", [1], 8, 12),
    },
    12,
  );
  const header = await readSafetensorsHeader(blobSource(new Blob([file])));
  assert.deepEqual(
    header.tensors.map((t) => [t.name, t.begin, t.end]),
    [["scalar", 0, 4], ["empty", 4, 4], ["after_empty", 4, 8], ["__proto__", 8, 12]],
  );
  assert.equal(header.metadata.format, "pt");
  assert.equal(header.dataEnd, 12);
});
