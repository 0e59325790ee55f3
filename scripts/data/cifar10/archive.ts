/**
 * Stream the CIFAR-10 files as one uncompressed tar, the form in which the Framework data loader
 * src/data/cifar10.tar.ts delivers them: Framework extracts each member on demand, so pages can write
 * `FileAttachment("data/cifar10/class-3.bin")`. Stored, not gzipped: dist/ receives the extracted members
 * either way, so compressing would only shrink Framework's cache copy, at the cost of gunzipping the whole
 * archive once per member extracted.
 */
import { once } from "node:events";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { CIFAR10_IMAGE_BYTES, type Cifar10Meta } from "../../../src/components/image/cifar10/dataset.ts";
import { tarChunks } from "../../../src/components/image/cifar10/tar.ts";

/** Images per class in preview.bin. */
export const PREVIEW_PER_CLASS = 8;

/**
 * Member names in archive order: the small files first (Framework scans the tar from the start for each
 * member). preview.bin holds the first PREVIEW_PER_CLASS images of every class, class by class (245 KB), so
 * the training page shows real images at once without downloading a 15 MB class file.
 */
export function cifar10ArchiveMembers(meta: Cifar10Meta): string[] {
  return ["meta.json", "preview.bin", ...meta.files];
}

function previewBytes(dir: string, meta: Cifar10Meta): Uint8Array {
  const perImage = CIFAR10_IMAGE_BYTES;
  const out = new Uint8Array(meta.files.length * PREVIEW_PER_CLASS * perImage);
  meta.files.forEach((name, c) => out.set(readFileSync(join(dir, name)).subarray(0, PREVIEW_PER_CLASS * perImage), c * PREVIEW_PER_CLASS * perImage));
  return out;
}

/** Write the archive to `out`, reading one file at a time and honouring back-pressure. */
export async function writeCifar10Archive(dir: string, meta: Cifar10Meta, out: NodeJS.WritableStream): Promise<void> {
  function* files() {
    for (const name of cifar10ArchiveMembers(meta)) yield { name, data: name === "preview.bin" ? previewBytes(dir, meta) : readFileSync(join(dir, name)) };
  }
  for (const chunk of tarChunks(files())) {
    if (chunk.length > 0 && !out.write(chunk)) await once(out, "drain");
  }
}
