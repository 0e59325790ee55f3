/**
 * The browser harness itself (no build needed): the Chromium launch of scripts/browser/chromium.ts has both GPU
 * backends the pages choose from, and openPage (scripts/browser/page-check.ts) sees what a reader would see
 * go wrong on a page made to have each problem once.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Browser } from "playwright-core";
import { launchChromium } from "../../scripts/browser/chromium.ts";
import { serveDirectory } from "../../scripts/browser/static-server.ts";
import { LONG_TASK_LIMIT_MS, longestTask, openPage } from "../../scripts/browser/page-check.ts";

const HEAD = '<!doctype html><meta charset="utf-8"><link rel="icon" href="data:,">';
const PAGES: Record<string, string> = {
  "blank.html": `${HEAD}<title>blank</title><main><h1>Blank</h1></main>`,
  "problems.html": `${HEAD}<title>problems</title>
<main id="observablehq-main"><h1>Problems</h1>
<p>The loss is \${loss.toFixed(3)} now.</p>
<p>Run <code>\`npm test\` with \${flags}</code> and see</p>
<pre>const s = \`\${x}\`;</pre>
<p style="display:none">hidden \${notShown}</p>
<span class="katex"><math><mi>\`</mi></math></span>
<p>a stray \` tick</p>
</main>
<script>
Promise.reject(new Error("rejected on purpose"));
// One 300 ms task well after first paint (the standard allows 200 ms).
setTimeout(() => { const start = performance.now(); while (performance.now() - start < 300); }, 200);
</script>`,
  // Like a cell that waits for the TF.js backend, then draws, then fails in a later redraw.
  "late.html": `${HEAD}<title>late</title><main><h1>Late</h1><p id="out">computing…</p></main>
<script>
setTimeout(() => { document.getElementById("out").textContent = "drawn"; }, 1000);
setTimeout(() => { document.getElementById("out").textContent = "redrawn"; throw new Error("late failure"); }, 2500);
</script>`,
};

let browser: Browser;
let server: Awaited<ReturnType<typeof serveDirectory>>;
let folder: string;

before(async () => {
  folder = await mkdtemp(join(tmpdir(), "browser-harness-"));
  for (const [name, html] of Object.entries(PAGES)) await writeFile(join(folder, name), html);
  server = await serveDirectory(folder);
  browser = await launchChromium();
});
after(async () => {
  await browser?.close();
  await server?.close();
  await rm(folder, { recursive: true, force: true });
});

test("Chromium has a WebGPU adapter and WebGL 2 with float render targets (a page on http://127.0.0.1)", async () => {
  const page = await browser.newPage();
  await page.goto(`${server.url}/blank.html`);
  const gpu = await page.evaluate(async () => {
    const adapter = await (navigator as unknown as { gpu?: { requestAdapter(): Promise<{ info?: { vendor: string; architecture: string } } | null> } }).gpu?.requestAdapter();
    const gl = document.createElement("canvas").getContext("webgl2");
    return {
      adapter: adapter ? `${adapter.info?.vendor}/${adapter.info?.architecture}` : null,
      webgl2: gl !== null,
      colorBufferFloat: gl?.getExtension("EXT_color_buffer_float") != null,
      textureFloatLinear: gl?.getExtension("OES_texture_float_linear") != null,
      webgl1TextureFloat: document.createElement("canvas").getContext("webgl")?.getExtension("OES_texture_float") != null,
    };
  });
  assert.ok(gpu.adapter, "navigator.gpu.requestAdapter() gave an adapter");
  assert.deepEqual({ ...gpu, adapter: true }, { adapter: true, webgl2: true, colorBufferFloat: true, textureFloatLinear: true, webgl1TextureFloat: true });
  await page.close();
});

test("openPage reports an unhandled rejection once, leaked template text outside code/pre/math/hidden, and the long task", async () => {
  const check = await openPage(browser, `${server.url}/problems.html`, { width: 390, height: 700 });
  assert.deepEqual(check.page.viewportSize(), { width: 390, height: 700 });
  await check.page.waitForTimeout(600); // the long task starts 200 ms after load
  assert.deepEqual(check.errors, ["unhandledrejection: Error: rejected on purpose"]);
  assert.deepEqual(await check.leakedTemplate(), ["The loss is ${loss.toFixed(3)} now.", "a stray ` tick"]);
  const tasks = await check.longTasks();
  assert.ok(longestTask(tasks) > LONG_TASK_LIMIT_MS, `longest task ${longestTask(tasks)} ms`);
  assert.deepEqual(await check.errorCells(), []);
  await check.page.close();
});

test("a clean page has no errors, leaks or long tasks over the limit", async () => {
  const check = await openPage(browser, `${server.url}/blank.html`);
  assert.deepEqual(check.errors, []);
  assert.deepEqual(await check.leakedTemplate(), []);
  assert.ok(longestTask(await check.longTasks()) <= LONG_TASK_LIMIT_MS);
  await check.page.close();
});

test("openPage with quietMs waits for a page that keeps drawing, and sees an error thrown late", async () => {
  const quick = await openPage(browser, `${server.url}/late.html`);
  assert.deepEqual(quick.errors, [], "without quietMs openPage returns before the late error");
  await quick.page.close();
  const settled = await openPage(browser, `${server.url}/late.html`, { quietMs: 1500 });
  assert.deepEqual(settled.errors, ["pageerror: late failure"]);
  assert.equal(await settled.page.locator("#out").innerText(), "redrawn");
  await settled.page.close();
});
