/**
 * An opt-in cache of downloaded checkpoints in the browser's Cache Storage (`caches`), so a 1.18 GB file is
 * fetched once, not on every visit. The browser keeps cached bodies on disk: storing streams the download
 * to disk, and a cached file comes back as a Blob that is read from disk on demand (stream it with
 * blobSource). Where Cache Storage does not exist (Node, a page not served over HTTPS, some private modes)
 * every function is harmless and reports the cache as unavailable.
 */
import type { ByteSource } from "./byte-source.js";
import { describeError } from "./errors.js";
import { ProgressMeter, type ProgressCallback } from "./progress.js";

/** The few Cache Storage methods used here, so tests can pass a fake. */
export interface CacheStorageLike {
  open(cacheName: string): Promise<CacheLike>;
  delete(cacheName: string): Promise<boolean>;
}
export interface CacheLike {
  match(url: string): Promise<Response | undefined>;
  put(url: string, response: Response): Promise<void>;
  keys(): Promise<readonly Request[]>;
  delete(url: string): Promise<boolean>;
}

/** Bump the version to orphan old entries if the stored format ever changes. */
export const CHECKPOINT_CACHE_NAME = "scm-lab-checkpoints-v1";

export type CacheStatus = { available: false; reason: string } | { available: true; files: number; bytes: number };

export interface DownloadCache {
  /** The stored file for this URL, or undefined (not stored, or no cache here). */
  lookup(url: string): Promise<Blob | undefined>;
  /**
   * Download the whole file from `source` into the cache under `url`. Returns false, downloading nothing,
   * when there is no cache. A download that fails or is aborted stores nothing.
   */
  store(url: string, source: ByteSource, options?: { onProgress?: ProgressCallback; signal?: AbortSignal }): Promise<boolean>;
  /** How many files and bytes are stored, or why there is no cache. */
  status(): Promise<CacheStatus>;
  /** Forget one file. */
  remove(url: string): Promise<void>;
  /** Forget every stored file. */
  clear(): Promise<void>;
}

const UNAVAILABLE = "the browser's Cache Storage is not available here (it needs a page served over HTTPS or from localhost)";

export function downloadCache(
  storage: CacheStorageLike | undefined = (globalThis as { caches?: CacheStorageLike }).caches,
  cacheName = CHECKPOINT_CACHE_NAME,
): DownloadCache {
  // Opening can fail even where `caches` exists (e.g. Firefox private windows): treat that as unavailable too.
  const openCache = async (): Promise<CacheLike | string> => {
    if (!storage) return UNAVAILABLE;
    try {
      return await storage.open(cacheName);
    } catch (error) {
      return `the browser's Cache Storage cannot be opened: ${describeError(error)}`;
    }
  };

  return {
    async lookup(url) {
      const cache = await openCache();
      if (typeof cache === "string") return undefined;
      const response = await cache.match(url);
      return response ? await response.blob() : undefined;
    },

    async store(url, source, options = {}) {
      const cache = await openCache();
      if (typeof cache === "string") return false;
      const meter = new ProgressMeter(options.onProgress);
      meter.totalBytes = source.size;
      const chunks = source.stream(0)[Symbol.asyncIterator]();
      let sourceError: unknown;
      const onAbort = () => void source.close();
      options.signal?.addEventListener("abort", onAbort, { once: true });
      // Pulled by cache.put as fast as it writes to disk: at most a chunk or two in memory.
      const body = new ReadableStream<Uint8Array>({
        async pull(controller) {
          try {
            const next = await chunks.next();
            if (next.done) return controller.close();
            meter.add(next.value.length);
            controller.enqueue(next.value);
          } catch (error) {
            sourceError = options.signal?.aborted ? options.signal.reason : error;
            controller.error(sourceError);
          }
        },
        async cancel() {
          await chunks.return?.();
        },
      });
      const headers: Record<string, string> = { "content-type": "application/octet-stream" };
      if (source.size !== undefined) headers["content-length"] = String(source.size);
      try {
        await cache.put(url, new Response(body, { headers }));
      } catch (error) {
        if (sourceError !== undefined) throw sourceError;
        throw new Error(`could not store ${url} in the browser's cache (out of space?): ${describeError(error)}`, { cause: error });
      } finally {
        options.signal?.removeEventListener("abort", onAbort);
        await source.close();
      }
      if (options.signal?.aborted) {
        await cache.delete(url);
        throw options.signal.reason;
      }
      if (source.size !== undefined && meter.receivedBytes !== source.size) {
        await cache.delete(url);
        throw new Error(`could not store ${url} in the browser's cache: ${meter.receivedBytes} of ${source.size} bytes arrived`);
      }
      meter.finish();
      return true;
    },

    async status() {
      const cache = await openCache();
      if (typeof cache === "string") return { available: false, reason: cache };
      let bytes = 0;
      const requests = await cache.keys();
      for (const request of requests) {
        // The length header written by store(): sizes without reading the bodies.
        const response = await cache.match(request.url);
        bytes += Number(response?.headers.get("content-length") ?? 0);
      }
      return { available: true, files: requests.length, bytes };
    },

    async remove(url) {
      const cache = await openCache();
      if (typeof cache !== "string") await cache.delete(url);
    },

    async clear() {
      if (storage) await storage.delete(cacheName).catch(() => false);
    },
  };
}
