/**
 * Download the chosen CIFAR-10 class files in parallel, streaming each into an ImageDataset as its bytes
 * arrive, so training can start long before 15 MB per class have come in. Each file is checked against
 * meta.json when it completes (byte length and SHA-256): a wrong or damaged file stops training with a
 * message instead of training on garbage.
 */
import type { ImageDataset } from "./image-dataset.js";
import { CIFAR10_CLASSES, CIFAR10_IMAGE_BYTES, checkCifar10ClassFileLength, cifar10ClassFile, validateCifar10Meta, type Cifar10Meta } from "./cifar10/dataset.js";
import { describeError } from "../checkpoint/errors.js";

export interface ClassFileProgress {
  receivedBytes: number;
  totalBytes: number;
  /** images available per class trained on */
  perClass: number[];
  complete: boolean;
}

export type Fetch = (url: string) => Promise<Response>;

/** The global fetch, called as a plain function: browsers refuse fetch called as a method of another object. */
export const globalFetch: Fetch = (url) => fetch(url);

/** meta.json, fetched and validated. */
export async function fetchCifar10Meta(url: string, fetchImpl: Fetch = globalFetch): Promise<Cifar10Meta> {
  const response = await fetchImpl(url).catch((error: Error) => {
    throw new Error(`could not download the CIFAR-10 index (${error.message})`);
  });
  if (!response.ok) throw new Error(`could not download the CIFAR-10 index: HTTP ${response.status}`);
  return validateCifar10Meta(await response.json());
}

async function sha256Hex(bytes: Uint8Array): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", bytes as Uint8Array<ArrayBuffer>);
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}

export class ClassFileStreams {
  private received = 0;
  private finished = 0;
  private failure: Error | null = null;
  private readonly controller = new AbortController();

  /** @param urls the class files' URLs by class index (all ten; only the dataset's classes are fetched) */
  constructor(private readonly dataset: ImageDataset, private readonly meta: Cifar10Meta, private readonly urls: readonly string[], private readonly fetchImpl: Fetch = globalFetch) {
    for (const label of dataset.classes) void this.stream(label);
  }

  /** The first download error, if any (the others are then cancelled). */
  get error(): Error | null {
    return this.failure;
  }

  progress(): ClassFileProgress {
    const totalBytes = this.dataset.classes.reduce((n, c) => n + this.meta.perClass[c] * CIFAR10_IMAGE_BYTES, 0);
    return { receivedBytes: this.received, totalBytes, perClass: this.dataset.classes.map((c) => this.dataset.countOf(c)), complete: this.finished === this.dataset.classes.length };
  }

  /** Stop every download (the page went away, or training stopped). */
  cancel(): void {
    this.controller.abort();
  }

  private async stream(label: number): Promise<void> {
    const name = cifar10ClassFile(label);
    try {
      const response = await this.fetchImpl(this.urls[label]);
      if (!response.ok || !response.body) throw new Error(`HTTP ${response.status}`);
      const reader = response.body.getReader();
      this.controller.signal.addEventListener("abort", () => void reader.cancel().catch(() => {}));
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        this.dataset.append(label, value);
        this.received += value.length;
      }
      if (this.controller.signal.aborted) return;
      const bytes = this.dataset.classBytes(label);
      checkCifar10ClassFileLength(this.meta, label, bytes.length + this.dataset.pendingBytes(label));
      if ((await sha256Hex(bytes)) !== this.meta.sha256[name]) throw new Error("its SHA-256 differs from meta.json: the file is damaged or stale");
      this.finished++;
    } catch (error) {
      if (this.controller.signal.aborted) return;
      this.failure ??= new Error(`could not load ${name} (${CIFAR10_CLASSES[label]}): ${describeError(error)}`);
      this.cancel();
    }
  }
}
