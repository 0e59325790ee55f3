/**
 * Training images held as uint8 per class, growing while their files stream in, and the batches drawn from
 * them: uniform over every image that has arrived in the chosen classes, with optional horizontal flips,
 * scaled to [−1, 1] — the data range of the paper's CIFAR-10 models, whose σd = 0.5 is the standard
 * deviation of data in that range (§3).
 */
import type { Rng } from "../math/rng.js";
import { concatenate } from "../checkpoint/byte-source.js";
import { CIFAR10_IMAGE_SHAPE } from "./cifar10/dataset.js";

export interface ImageShape {
  height: number;
  width: number;
  channels: number;
}

const [height, width, channels] = CIFAR10_IMAGE_SHAPE;
export const CIFAR10_SHAPE: ImageShape = { height, width, channels };

/** Bytes of one image in HWC order. */
export function imageBytes({ height, width, channels }: ImageShape): number {
  return height * width * channels;
}

/** uint8 value v ↦ v/127.5 − 1, so 0 ↦ −1 and 255 ↦ 1. */
export function byteToUnit(v: number): number {
  return v / 127.5 - 1;
}

/** Model output in [−1, 1] (not clipped by the model) ↦ a displayable byte, clipped. */
export function unitToByte(x: number): number {
  return Math.max(0, Math.min(255, Math.round((x + 1) * 127.5)));
}

export class ImageDataset {
  private readonly store: Map<number, { bytes: Uint8Array; count: number; pending: Uint8Array }>;
  private readonly size: number;

  /**
   * @param classes the class indices trained on (a class filter); images of other classes are refused
   * @param capacity the most images a class can hold (its full file), so memory is allocated once
   */
  constructor(readonly classes: readonly number[], readonly shape: ImageShape = CIFAR10_SHAPE, capacity = 5000) {
    if (classes.length === 0) throw new RangeError("train on at least one class");
    this.size = imageBytes(shape);
    this.store = new Map(classes.map((c) => [c, { bytes: new Uint8Array(capacity * this.size), count: 0, pending: new Uint8Array(0) }]));
  }

  /**
   * Add bytes of class `label` as they arrive from a stream: whole images become available at once; a
   * partial image waits for the next chunk. Bytes beyond the capacity are an error (a wrong file).
   */
  append(label: number, chunk: Uint8Array): void {
    const entry = this.store.get(label);
    if (!entry) throw new RangeError(`class ${label} is not among the classes trained on (${this.classes.join(", ")})`);
    const joined = entry.pending.length === 0 ? chunk : concatenate([entry.pending, chunk]);
    const whole = Math.floor(joined.length / this.size);
    if ((entry.count + whole) * this.size > entry.bytes.length) throw new RangeError(`class ${label} received more than ${entry.bytes.length / this.size} images: not a CIFAR-10 class file`);
    entry.bytes.set(joined.subarray(0, whole * this.size), entry.count * this.size);
    entry.count += whole;
    entry.pending = joined.slice(whole * this.size);
  }

  /** Images available in class `label` (0 for classes not trained on). */
  countOf(label: number): number {
    return this.store.get(label)?.count ?? 0;
  }

  get count(): number {
    let n = 0;
    for (const { count } of this.store.values()) n += count;
    return n;
  }

  /** Every whole image of class `label` that has arrived, as one byte array (e.g. to check a file's hash). */
  classBytes(label: number): Uint8Array {
    const entry = this.store.get(label);
    if (!entry) throw new RangeError(`class ${label} is not among the classes trained on`);
    return entry.bytes.subarray(0, entry.count * this.size);
  }

  /** Bytes received for class `label` that do not yet make a whole image (0 once its file is complete). */
  pendingBytes(label: number): number {
    return this.store.get(label)?.pending.length ?? 0;
  }

  /** The HWC bytes of image `index` of class `label`. */
  image(label: number, index: number): Uint8Array {
    const entry = this.store.get(label);
    if (!entry || index >= entry.count) throw new RangeError(`class ${label} has no image ${index} yet`);
    return entry.bytes.subarray(index * this.size, (index + 1) * this.size);
  }

  /**
   * n images drawn uniformly (with replacement) from everything that has arrived, each flipped left–right
   * with probability ½ when `flip`; float32 NHWC in [−1, 1].
   */
  sampleBatch(rng: Rng, n: number, flip: boolean): Float32Array {
    const total = this.count;
    if (total === 0) throw new Error("no training images have arrived yet");
    const { height, width, channels } = this.shape;
    const out = new Float32Array(n * this.size);
    for (let i = 0; i < n; i++) {
      const { label, index } = this.locate(Math.floor(rng.uniform() * total));
      const source = this.image(label, index);
      const mirror = flip && rng.uniform() < 0.5;
      const base = i * this.size;
      for (let y = 0; y < height; y++) {
        for (let x = 0; x < width; x++) {
          const from = (y * width + (mirror ? width - 1 - x : x)) * channels;
          const to = base + (y * width + x) * channels;
          for (let c = 0; c < channels; c++) out[to + c] = byteToUnit(source[from + c]);
        }
      }
    }
    return out;
  }

  /** The k-th available image, counting class by class. */
  private locate(k: number): { label: number; index: number } {
    for (const [label, { count }] of this.store) {
      if (k < count) return { label, index: k };
      k -= count;
    }
    throw new RangeError("index past the available images");
  }
}
