/**
 * bench:train runs as two esbuild bundles (scripts/bench/train/bundle.ts): one for Node (and the GPU package), one
 * for the Chromium page. A Node module reaching the page's bundle breaks the Chromium backends of the bench, which
 * then print only "unavailable (Build failed …)": it happened once (the page imported the Node parser of argv).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { bundleBrowser, bundleNode } from "../scripts/bench/train/bundle.ts";

test("bench:train's browser and Node bundles build, and the browser's imports nothing from Node", async () => {
  const dir = mkdtempSync(join(tmpdir(), "bench-bundles-"));
  try {
    await bundleBrowser(join(dir, "browser.js"));
    await bundleNode(join(dir, "node.mjs"));
    const browser = readFileSync(join(dir, "browser.js"), "utf8");
    assert.doesNotMatch(browser, /from\s*["']node:|require\(["']node:/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
