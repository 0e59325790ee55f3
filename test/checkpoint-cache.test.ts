/**
 * The opt-in download cache, against a small in-memory stand-in for the browser's CacheStorage (the real one
 * does not exist in Node), and its behaviour where there is no cache at all.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { blobSource } from "../src/components/checkpoint/blob-source.ts";
import type { ByteSource } from "../src/components/checkpoint/byte-source.ts";
import { downloadCache, type CacheLike, type CacheStorageLike } from "../src/components/checkpoint/download-cache.ts";
import { CheckpointSourceError } from "../src/components/checkpoint/errors.ts";
import { streamSafetensors } from "../src/components/checkpoint/stream-reader.ts";
import { writeSafetensors } from "../src/components/checkpoint/safetensors.ts";

/** Like the browser's: put() reads the whole body and stores nothing if the body fails. */
function fakeCacheStorage(): CacheStorageLike & { caches: Map<string, Map<string, { bytes: Uint8Array<ArrayBuffer>; headers: Headers }>> } {
  const caches = new Map<string, Map<string, { bytes: Uint8Array<ArrayBuffer>; headers: Headers }>>();
  const cacheFor = (entries: Map<string, { bytes: Uint8Array<ArrayBuffer>; headers: Headers }>): CacheLike => ({
    async match(url) {
      const entry = entries.get(url);
      return entry && new Response(entry.bytes, { headers: entry.headers });
    },
    async put(url, response) {
      const bytes = new Uint8Array(await response.arrayBuffer());
      entries.set(url, { bytes, headers: response.headers });
    },
    async keys() {
      return [...entries.keys()].map((url) => new Request(url));
    },
    async delete(url) {
      return entries.delete(url);
    },
  });
  return {
    caches,
    async open(name) {
      if (!caches.has(name)) caches.set(name, new Map());
      return cacheFor(caches.get(name)!);
    },
    async delete(name) {
      return caches.delete(name);
    },
  };
}

const URL_ = "https://huggingface.co/org/model/resolve/0123abc/unet/diffusion_pytorch_model.safetensors";
const file = writeSafetensors({ w: { shape: [1000], data: new Float32Array(1000).map((_, i) => i / 7) } });

/** A source that delivers `file` in chunks, and fails after `failAfter` bytes when given. */
function source(failAfter?: number, onChunk?: (at: number) => void): ByteSource {
  const blob = blobSource(new Blob([file]));
  return {
    ...blob,
    size: file.length,
    async *stream(start) {
      for (let at = start; at < file.length; at += 500) {
        onChunk?.(at);
        if (failAfter !== undefined && at >= failAfter) throw new CheckpointSourceError("the connection failed: terminated");
        yield file.slice(at, at + 500);
      }
    },
  };
}

test("without Cache Storage (as in Node) every function is harmless and says the cache is unavailable", async () => {
  assert.equal(typeof (globalThis as { caches?: unknown }).caches, "undefined");
  const cache = downloadCache();
  const status = await cache.status();
  assert.equal(status.available, false);
  assert.match((status as { reason: string }).reason, /Cache Storage is not available here/);
  assert.equal(await cache.lookup(URL_), undefined);
  assert.equal(await cache.store(URL_, source()), false);
  await cache.remove(URL_);
  await cache.clear();
});

test("a Cache Storage that cannot be opened (e.g. a private window) counts as unavailable", async () => {
  const refusing: CacheStorageLike = {
    open: async () => {
      throw new DOMException("The operation is insecure.", "SecurityError");
    },
    delete: async () => false,
  };
  const status = await downloadCache(refusing).status();
  assert.deepEqual(status, { available: false, reason: "the browser's Cache Storage cannot be opened: The operation is insecure." });
});

test("store, look up, stream from the cached copy, measure, clear", async () => {
  const storage = fakeCacheStorage();
  const cache = downloadCache(storage);
  assert.deepEqual(await cache.status(), { available: true, files: 0, bytes: 0 });
  const progress: number[] = [];
  assert.equal(await cache.store(URL_, source(), { onProgress: (p) => progress.push(p.receivedBytes) }), true);
  assert.equal(progress.at(-1), file.length);

  const blob = await cache.lookup(URL_);
  assert.ok(blob);
  assert.deepEqual(new Uint8Array(await blob.arrayBuffer()), file);
  const tensors = [];
  for await (const t of streamSafetensors(blobSource(blob))) tensors.push(t);
  assert.equal(tensors[0].values[700], Math.fround(100));
  assert.deepEqual(await cache.status(), { available: true, files: 1, bytes: file.length });

  await cache.store(`${URL_}?other`, source());
  assert.deepEqual(await cache.status(), { available: true, files: 2, bytes: 2 * file.length });
  await cache.remove(`${URL_}?other`);
  assert.deepEqual(await cache.status(), { available: true, files: 1, bytes: file.length });
  await cache.clear();
  assert.equal(storage.caches.size, 0);
  assert.equal(await cache.lookup(URL_), undefined);
});

test("a download that fails stores nothing and reports the download's error", async () => {
  const cache = downloadCache(fakeCacheStorage());
  await assert.rejects(cache.store(URL_, source(2000)), (e: Error) => e instanceof CheckpointSourceError && /terminated/.test(e.message));
  assert.equal(await cache.lookup(URL_), undefined);
});

test("an aborted download stores nothing", async () => {
  const cache = downloadCache(fakeCacheStorage());
  const controller = new AbortController();
  const cancelMidway = (at: number) => {
    if (at >= 1000) controller.abort(new Error("user cancelled"));
  };
  const run = cache.store(URL_, source(undefined, cancelMidway), { signal: controller.signal });
  await assert.rejects(run, /user cancelled/);
  assert.equal(await cache.lookup(URL_), undefined);
});
