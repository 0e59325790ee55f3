/**
 * Lint: no synchronous tensor reads in code that runs on a page or in the worker.
 *
 * Why: in headless Chromium's WebGPU (the SwiftShader adapter the browser tests use), TF.js's synchronous read
 * of a GPU-resident tensor (`dataSync()`, `arraySync()`, `bufferSync()`, which all end in the WebGPU backend's
 * `readSync`) copies the buffer into a WebGPU canvas texture and draws it into a 2D canvas to read the pixels
 * back. Chromium cannot create the shared image that needs ("Could not find SharedImageBackingFactory …
 * WebgpuSwapChainTexture", "SharedImageStub: Unable to create shared image"), so the read returns zeros
 * (ones(32×64)·ones(64×64): `await data()` gives 64 everywhere, `dataSync()` 0 everywhere) and then the device
 * is lost ("Device was destroyed"; the next `await data()` fails in mapAsync). `npm run repro:sync-read`
 * (scripts/browser/repro-sync-read.ts) reproduces it. The asynchronous `await t.data()` / `await t.array()` works on
 * every backend, and on real GPUs a synchronous read stalls the page anyway. So page and worker code reads
 * tensors with `await`, and this test names every file:line that does not.
 *
 * Scanned: src/**\/*.md (code in fences and `${…}`; prose code spans are skipped), src/ui/**, src/workers/**
 * and src/components/** (the library the pages and the worker import). Comments are skipped.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync, readdirSync, statSync } from "node:fs";
import { join, relative } from "node:path";

/**
 * Files allowed to read synchronously, each with the reason. Keep it minimal: an entry must be code that only
 * ever sees CPU-backend data.
 */
const ALLOWED: Record<string, string> = {
  "src/components/runtime/cpu-kernels.ts":
    "kernels registered for the CPU backend only; they read their inputs' values from the CPU backend's own data store, which is already in memory",
};

const ROOT = new URL("..", import.meta.url).pathname;

/** `.dataSync(`, `.arraySync(`, `.bufferSync(`, `.readSync(` and `tf.<anything>Sync(` calls. */
const SYNC_READ = /\.(?:dataSync|arraySync|bufferSync|readSync)\s*\(|\btf(?:\.\w+)*\.\w+Sync\s*\(/;

/** Blank out // and /* *\/ comments (newlines kept, so line numbers stay), not starting one inside a string. */
export function stripComments(source: string): string {
  let out = "";
  let i = 0;
  let quote: string | null = null;
  while (i < source.length) {
    const c = source[i];
    if (quote) {
      out += c;
      if (c === "\\") out += source[++i] ?? "";
      else if (c === quote) quote = null;
      i++;
    } else if (c === "'" || c === '"' || c === "`") {
      quote = c;
      out += c;
      i++;
    } else if (c === "/" && source[i + 1] === "/") {
      while (i < source.length && source[i] !== "\n") i++;
    } else if (c === "/" && source[i + 1] === "*") {
      const end = source.indexOf("*/", i + 2);
      const stop = end < 0 ? source.length : end + 2;
      out += source.slice(i, stop).replace(/[^\n]/g, " ");
      i = stop;
    } else {
      out += c;
      i++;
    }
  }
  return out;
}

/** The code of a Framework page: fenced blocks as they are, prose without its `code spans` and <!-- comments -->. */
export function markdownCode(source: string): string {
  let inFence = false;
  const lines = source.replace(/<!--[\s\S]*?-->/g, (comment) => comment.replace(/[^\n]/g, " ")).split("\n");
  return lines
    .map((line) => {
      if (/^\s*(```|~~~)/.test(line)) {
        inFence = !inFence;
        return "";
      }
      return inFence ? line : line.replace(/`[^`]*`/g, "");
    })
    .join("\n");
}

export function findSyncReads(file: string, source: string): string[] {
  const code = stripComments(file.endsWith(".md") ? markdownCode(source) : source);
  return code.split("\n").flatMap((line, index) => (SYNC_READ.test(line) ? [`${file}:${index + 1}: ${source.split("\n")[index].trim()}`] : []));
}

function walk(folder: string, keep: (path: string) => boolean): string[] {
  if (!existsSync(folder)) return [];
  return readdirSync(folder).flatMap((name) => {
    const path = join(folder, name);
    if (name.startsWith(".")) return []; // src/.observablehq/cache holds build output
    return statSync(path).isDirectory() ? walk(path, keep) : keep(path) ? [path] : [];
  });
}

const isCode = (path: string) => /\.(ts|js|mjs)$/.test(path) && !path.endsWith(".d.ts");
const scanned = () => [
  ...walk(join(ROOT, "src"), (path) => path.endsWith(".md")),
  ...["ui", "workers", "components"].flatMap((folder) => walk(join(ROOT, "src", folder), isCode)),
].map((path) => relative(ROOT, path));

test("the detector finds sync reads in code and skips comments, strings' comment look-alikes and prose", () => {
  assert.deepEqual(findSyncReads("a.ts", "const v = t.dataSync();\n// t.dataSync() in a comment\n/* x.arraySync() */ const u = await t.data();"), ["a.ts:1: const v = t.dataSync();"]);
  assert.deepEqual(findSyncReads("a.ts", 'const url = "http://x"; const w = x.arraySync();'), ['a.ts:1: const url = "http://x"; const w = x.arraySync();']);
  assert.equal(findSyncReads("a.ts", "const b = y.bufferSync ();\nconst z = tf.browser.toPixelsSync(x);").length, 2);
  assert.deepEqual(findSyncReads("a.ts", "const ok = await t.data(); const s = dataSyncCount;"), []);
  const page = "Use `t.dataSync()` never.\n\n```js\nconst v = t.arraySync();\n```\n\nValue ${x.dataSync()[0]}\n<!-- y.dataSync() -->";
  assert.deepEqual(findSyncReads("p.md", page), ["p.md:4: const v = t.arraySync();", "p.md:7: Value ${x.dataSync()[0]}"]);
});

test("every allow-listed file exists (the list does not outlive a rename)", () => {
  for (const file of Object.keys(ALLOWED)) assert.ok(existsSync(join(ROOT, file)), `${file} is allow-listed but missing`);
});

test("no page, page helper, worker or library file reads a tensor synchronously (use `await t.data()`)", () => {
  const files = scanned();
  assert.ok(files.some((f) => f.endsWith(".md")) && files.some((f) => f.startsWith("src/components/")), "the scan found the sources");
  const found = files.filter((file) => !(file in ALLOWED)).flatMap((file) => findSyncReads(file, readFileSync(join(ROOT, file), "utf8")));
  if (found.length > 0) assert.fail(`${found.length} synchronous tensor read(s); read with \`await t.data()\` (why: the top of test/no-sync-gpu-read.test.ts):\n${found.join("\n")}`);
});
