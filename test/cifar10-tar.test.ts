import { test } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { Readable } from "node:stream";
// tar-stream is what Framework 1.13 uses to extract members of a .tar produced by a data loader
// (node_modules/@observablehq/framework/dist/loader.js), so the writer is checked against it, both ways.
import { extract, pack } from "tar-stream";
import { Cifar10DataError } from "../src/components/image/cifar10/errors.ts";
import { readTar, tarChunks, writeTar } from "../src/components/image/cifar10/tar.ts";

const files = [
  { name: "meta.json", data: new TextEncoder().encode('{"a":1}') },
  { name: "empty.bin", data: new Uint8Array(0) },
  { name: "block.bin", data: new Uint8Array(randomBytes(512)) },
  { name: "class-3.bin", data: new Uint8Array(randomBytes(3072 * 3 + 1)) },
];

const same = (a: Uint8Array, b: Uint8Array) => Buffer.from(a).equals(Buffer.from(b));

test("round trip: writeTar → readTar keeps names, order and bytes; output is deterministic and block-aligned", () => {
  const archive = writeTar(files);
  assert.equal(archive.length % 512, 0);
  assert.ok(same(archive, writeTar(files)), "same files, same bytes");
  const chunks = [...tarChunks(files)];
  assert.ok(same(Buffer.concat(chunks), archive), "streamed chunks = one buffer");
  const back = readTar(archive);
  assert.deepEqual(back.map((e) => e.name), files.map((f) => f.name));
  back.forEach((e, i) => assert.ok(same(e.data, files[i].data), e.name));
});

test("Framework's tar reader (tar-stream) reads what writeTar writes", async () => {
  const seen: { name: string; type: string; data: Buffer }[] = [];
  const reader = extract();
  Readable.from([Buffer.from(writeTar(files))]).pipe(reader);
  for await (const entry of reader) {
    const parts: Buffer[] = [];
    for await (const part of entry) parts.push(part as Buffer);
    seen.push({ name: entry.header.name, type: entry.header.type, data: Buffer.concat(parts) });
  }
  assert.deepEqual(seen.map((e) => e.name), files.map((f) => f.name));
  assert.ok(seen.every((e) => e.type === "file"));
  seen.forEach((e, i) => assert.ok(same(e.data, files[i].data), e.name));
});

test("readTar reads tar-stream's archives: directories skipped, long names via ustar prefix and pax headers", async () => {
  const longDir = `package/${"d".repeat(120)}`;
  const longName = `package/${"n".repeat(130)}.png`; // a 139-character base name needs a pax header
  const archive = pack();
  archive.entry({ name: "package", type: "directory" });
  archive.entry({ name: "package/data_batch_1.png" }, Buffer.from("one"));
  archive.entry({ name: `${longDir}/x.json` }, Buffer.from("two"));
  archive.entry({ name: longName }, Buffer.from("three"));
  archive.finalize();
  const parts: Buffer[] = [];
  for await (const part of archive) parts.push(part as Buffer);
  const entries = readTar(new Uint8Array(Buffer.concat(parts)));
  assert.deepEqual(
    entries.map((e) => [e.name, Buffer.from(e.data).toString()]),
    [
      ["package/data_batch_1.png", "one"],
      [`${longDir}/x.json`, "two"],
      [longName, "three"],
    ],
  );
});

test("damaged archives are refused with one clear message each", () => {
  const archive = writeTar(files);
  const badChecksum = archive.slice();
  badChecksum[1024 + 3] ^= 1; // empty.bin's header: after meta.json's header and its one data block
  const cases: [Uint8Array, RegExp][] = [
    // meta.json: header 0, data 512; empty.bin: header 1024; block.bin: header 1536, data 2048–2560.
    [archive.subarray(0, 2048 + 100), /entry at byte 1536 needs 512 bytes but the archive ends 100 bytes later \(truncated\)/],
    [archive.subarray(0, archive.length - 1024), /without the end-of-archive block \(truncated\?\)/],
    [badChecksum, /tar header at byte 1024 has a bad checksum/],
    [new TextEncoder().encode("x".repeat(600)), /tar header at byte 0 has a bad checksum \(corrupt or not a tar archive\)/],
    [new Uint8Array(0), /ends at byte 0 without the end-of-archive block/],
  ];
  for (const [bytes, message] of cases) {
    assert.throws(() => readTar(bytes, "a.tar"), (e: unknown) => e instanceof Cifar10DataError && /^a\.tar: /.test(e.message) && message.test(e.message), `expected ${message}`);
  }
});

test("the writer refuses names it cannot store in a plain ustar header", () => {
  for (const name of ["", "x".repeat(101), "café.bin", "a\nb"]) {
    assert.throws(() => writeTar([{ name, data: new Uint8Array(1) }]), (e: unknown) => e instanceof Cifar10DataError && /file name/.test(e.message), JSON.stringify(name));
  }
});
