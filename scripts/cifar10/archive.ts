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
import type { Cifar10Meta } from "../../src/components/cifar10/dataset.ts";
import { tarChunks } from "../../src/components/cifar10/tar.ts";

/** Member names in archive order: meta.json first (Framework scans the tar from the start for each member). */
export function cifar10ArchiveMembers(meta: Cifar10Meta): string[] {
  return ["meta.json", ...meta.files];
}

/** Write the archive to `out`, reading one file at a time and honouring back-pressure. */
export async function writeCifar10Archive(dir: string, meta: Cifar10Meta, out: NodeJS.WritableStream): Promise<void> {
  function* files() {
    for (const name of cifar10ArchiveMembers(meta)) yield { name, data: readFileSync(join(dir, name)) };
  }
  for (const chunk of tarChunks(files())) {
    if (chunk.length > 0 && !out.write(chunk)) await once(out, "drain");
  }
}
