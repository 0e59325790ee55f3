/**
 * End-to-end for the two training pages (run `npm run build` first): the precomputed first view, the
 * controls that change it, and live training in Web Workers — started, measured, paused and stopped — in
 * Debian's Chromium (SwiftShader WebGL or CPU: slow, so the runs are short and stopped early).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import type { Page } from "playwright-core";
import { openPage } from "../../scripts/browser/page-check.ts";
import { ARTIFACTS, useBuiltSite } from "./site-fixture.ts";

const site = useBuiltSite();

/** Wait until a live run's status line (data-run="…") matches. */
async function status(page: Page, run: string, pattern: RegExp, timeout = 150_000): Promise<void> {
  await page.locator(`[data-run="${run}"]`, { hasText: pattern }).waitFor({ timeout });
}

async function setRange(page: Page, label: RegExp, value: number): Promise<void> {
  await page.getByRole("spinbutton", { name: label }).fill(String(value));
  await page.getByRole("spinbutton", { name: label }).dispatchEvent("input");
}

test("stabilizers page: trained runs show at once; choosing another stabilizer redraws them", async () => {
  const { page, errors } = await openPage(site.browser, `${site.url}/stabilizers`);
  const table = page.locator("table").first();
  assert.match(await table.innerText(), /L2, c = 0\.1 \(paper\)[\s\S]*off/);
  // Every configuration is a mean ± sd over the precomputed seeds, in the table and in the sentence under it.
  assert.match(await table.innerText(), /L2, c = 0\.1 \(paper\)\s+[\d.]+ ± [\d.]+/);
  assert.match(await page.locator("body").innerText(), /Measured here over \d+ seeds \(mean ± sd\), against the paper's setting/);
  await page.getByLabel("Time conditioning c_noise(t)").check();
  await page.waitForTimeout(500);
  assert.match(await table.innerText(), /¼·ln\(σd tan t\)/);
  assert.ok((await page.locator(".card svg").count()) >= 4);
  // The time-proposal sweep's sentences are the library's, computed here in Node from the same file.
  const { readFile } = await import("node:fs/promises");
  const { ABLATIONS } = await import("../../src/components/toy/experiments/stabilizers.ts");
  const { finalQuality, versusEach } = await import("../../src/components/toy/experiments/verdicts.ts");
  const file = JSON.parse(await readFile("src/data/stabilizers.json", "utf8"));
  const runOf = (id: string) => file.runs.find((r: { id: string }) => r.id === id);
  const [paper, ...others] = ABLATIONS.find((a) => a.id === "proposal")!.variants;
  const byPMean = [...others].sort((a, b) => a.settings.proposalMean - b.settings.proposalMean);
  const text = await page.locator("body").innerText();
  for (const [which, name] of [["oneStep", "1-step quality"], ["twoStep", "2-step quality"]] as const) {
    const measured = (id: string) => finalQuality(id, runOf(id).seeds)[which];
    const expected = `${name}: the paper's P_mean = −1.0 is ${versusEach(measured(paper.id), byPMean.map((v) => ({ label: v.label, measured: measured(v.id) })))}`;
    assert.ok(text.includes(expected), expected);
  }
  await page.screenshot({ path: `${ARTIFACTS}/stabilizers-cnoise.png`, fullPage: true });
  assert.deepEqual(await page.locator(".observablehq--error").allInnerTexts(), []);
  assert.deepEqual(errors, []);
  await page.close();
});

test("stabilizers page: two live runs train side by side, report exact quality, pause and stop", async () => {
  const { page, errors } = await openPage(site.browser, `${site.url}/stabilizers`);
  // Long enough to still be running when Pause is pressed: on WASM 100 steps end within a second or two.
  await setRange(page, /sCT steps/, 3000);
  await page.getByRole("button", { name: "Train A and B" }).click();
  // Both runs start from the precomputed teacher and report a measurement every 50 steps.
  await status(page, "A", /2-step sliced W₂ \d\.\d{4} at step \d*[05]0\b/);
  await status(page, "B", /2-step sliced W₂ \d\.\d{4} at step \d*[05]0\b/);
  const pause = page.getByRole("button", { name: "Pause" }).first();
  await pause.click();
  await page.getByRole("button", { name: "Resume" }).first().waitFor();
  await page.getByRole("button", { name: "Stop" }).first().click();
  await status(page, "A", /stopped after \d+ steps/, 60_000);
  await page.getByRole("button", { name: "Stop" }).nth(1).click();
  await status(page, "B", /stopped after \d+ steps/, 60_000);
  assert.ok((await page.locator("figure svg, .card svg").count()) >= 8, "live figures drawn");
  await page.screenshot({ path: `${ARTIFACTS}/stabilizers-live.png`, fullPage: true });
  assert.deepEqual(await page.locator(".observablehq--error").allInnerTexts(), []);
  assert.deepEqual(errors, []);
  await page.close();
});

// The live discrete and continuous runs are tested on each backend, against Node, in backends.test.ts.
test("continuous vs discrete page: quality by N and the tangent gap show at once", async () => {
  const { page, errors } = await openPage(site.browser, `${site.url}/discrete`);
  const text = await page.locator("body").innerText();
  assert.match(text, /The grid with the lowest mean is N = \d+/);
  // The verdict is computed (verdicts.ts): the continuous model against every grid, in words.
  // Over seeds: the ± is the standard deviation over the precomputed seeds, and the table shows it too.
  assert.match(text, /Measured over \d+ seeds \(mean ± sd\): continuous time scores [\d.]+ ± [\d.]+,\s+(better than|a tie with|worse than) N = \d+/);
  assert.match(await page.locator("table").first().innerText(), /continuous sCD\s+[\d.]+ ± [\d.]+/);
  assert.match(await page.locator("body").innerText(), /The gap falls like 1\/N down to N = [\d,]+/);
  // The fp16 section: its verdicts are the library's, computed here in Node from the same files.
  const { readFile } = await import("node:fs/promises");
  const { compareLowerIsBetter, describeComparison, finalQuality } = await import("../../src/components/toy/experiments/verdicts.ts");
  const float32 = JSON.parse(await readFile("src/data/discrete.json", "utf8"));
  const half = JSON.parse(await readFile("src/data/discrete-half.json", "utf8"));
  for (const which of ["oneStep", "twoStep"] as const) {
    for (const run of half.discrete) {
      const reference = float32.discrete.find((r: { N: number }) => r.N === run.N);
      const expected = describeComparison(compareLowerIsBetter(finalQuality("", run.seeds)[which], finalQuality("", reference.seeds)[which]));
      assert.ok(text.includes(`N = ${run.N}: ${expected}`), `${which}, fp16 against float32 at N = ${run.N}: ${expected}`);
    }
  }
  assert.match(text, /1-step: with fp16 targets the continuous model scores [\d.]+ ± [\d.]+/);
  await page.screenshot({ path: `${ARTIFACTS}/discrete.png`, fullPage: true });
  assert.deepEqual(await page.locator(".observablehq--error").allInnerTexts(), []);
  assert.deepEqual(errors, []);
  await page.close();
});

test("stabilizers page on the CPU fallback: a live run trains in the worker, and Stop ends it", async () => {
  // A GPU-less browser: the worker sees neither WebGPU nor OffscreenCanvas (WebGL's precondition), so
  // backend.ts falls back to TF.js's CPU backend with cpu-kernels.ts. CPU steps never wait for a macrotask:
  // this is the case where Stop was once ignored until the run ended.
  const page = await site.browser.newPage({ viewport: { width: 1280, height: 900 } });
  const errors: string[] = [];
  page.on("console", (message) => message.type() === "error" && errors.push(`console: ${message.text()}`));
  page.on("pageerror", (error) => errors.push(`pageerror: ${error.message}`));
  // Every jobs worker, with or without the ?backend= that worker-client.ts adds after the first one chose.
  await page.route((url) => url.pathname.includes("/jobs-worker"), async (route) => {
    const response = await route.fetch();
    // No WebAssembly either: the page offers TF.js's WASM kernels (on request only, but a fallback must not need them).
    const prelude = "delete self.OffscreenCanvas; delete self.WebAssembly; Object.defineProperty(self.navigator, 'gpu', { value: undefined });\n";
    await route.fulfill({ response, body: prelude + (await response.text()) });
  });
  await page.goto(`${site.url}/stabilizers`, { waitUntil: "networkidle" });
  await page.getByRole("button", { name: "Train A and B" }).click();
  await status(page, "A", /2-step sliced W₂ \d\.\d{4} at step 50/);
  for (const worker of page.workers()) {
    assert.deepEqual(await worker.evaluate(() => [typeof OffscreenCanvas, typeof navigator.gpu, typeof WebAssembly]), ["undefined", "undefined", "undefined"], "every worker is on the CPU fallback");
  }
  await page.getByRole("button", { name: "Stop" }).first().click();
  await status(page, "A", /stopped after \d+ steps/, 30_000);
  assert.deepEqual(await page.locator(".observablehq--error").allInnerTexts(), []);
  assert.deepEqual(errors, []);
  await page.close();
});

test("scaling page: the precomputed widths and their computed sentences match the library; sCD and sCT train live and stop", async () => {
  const { readFile } = await import("node:fs/promises");
  const { SCALING_METHODS, describeScaling, summarizeScaling } = await import("../../src/components/toy/experiments/scaling.ts");
  const file = JSON.parse(await readFile("src/data/scaling.json", "utf8"));
  const { page, errors } = await openPage(site.browser, `${site.url}/scaling`);
  const table = page.locator("table").first();
  // One row per width, each a mean ± sd over the seeds.
  for (const { width } of file.widths) assert.match(await table.innerText(), new RegExp(`\\n${width}\\s+[\\d,]+\\s+[\\d.]+ ± [\\d.]+`));
  // The page's sentences are the library's, computed here in Node from the same file.
  const points = (which: "oneStep" | "twoStep") =>
    file.widths.map((w: { width: number; teacherOdeQuality: number[]; runs: Record<string, { quality: Record<string, number>[] }[]> }) => ({
      width: w.width,
      teacher: w.teacherOdeQuality,
      students: Object.fromEntries(SCALING_METHODS.map((m) => [m, w.runs[m].map((s) => s.quality.at(-1)![which])])),
    }));
  const body = () => page.locator("body").innerText();
  for (const m of SCALING_METHODS) assert.ok((await body()).includes(describeScaling(summarizeScaling(points("twoStep"), m))), `2-step sentence for ${m}`);
  await page.getByLabel("1-step").check();
  await page.waitForTimeout(500);
  for (const m of SCALING_METHODS) assert.ok((await body()).includes(describeScaling(summarizeScaling(points("oneStep"), m))), `1-step sentence for ${m}`);
  assert.ok((await page.locator(".card svg").count()) >= 2);
  await page.screenshot({ path: `${ARTIFACTS}/scaling.png`, fullPage: true });

  await page.getByLabel("16", { exact: true }).check();
  await setRange(page, /Student steps/, 3000);
  await page.getByRole("button", { name: "Train sCD and sCT" }).click();
  // Each job trains the teacher first, then reports a measurement every 50 student steps.
  await status(page, "scd", /2-step sliced W₂ \d\.\d{4} at step \d*[05]0\b/, 240_000);
  await status(page, "sct", /2-step sliced W₂ \d\.\d{4} at step \d*[05]0\b/, 240_000);
  await page.getByRole("button", { name: "Stop" }).first().click();
  await status(page, "scd", /stopped after \d+ steps/, 60_000);
  await page.getByRole("button", { name: "Stop" }).nth(1).click();
  await status(page, "sct", /stopped after \d+ steps/, 60_000);
  assert.ok((await page.locator(".card svg").count()) >= 4, "live figures drawn");
  await page.screenshot({ path: `${ARTIFACTS}/scaling-live.png`, fullPage: true });
  assert.deepEqual(await page.locator(".observablehq--error").allInnerTexts(), []);
  assert.deepEqual(errors, []);
  await page.close();
});
