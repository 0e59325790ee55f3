/**
 * End-to-end for the CIFAR-10 training page (run `npm run build` first): real CIFAR-10 previews at once, then
 * a tiny live run — teacher then sCD — streamed, trained and sampled in a Web Worker of Debian's Chromium
 * (SwiftShader: slow, so the run is a few steps of the tiny UNet at batch 2), saved in IndexedDB, offered
 * for resuming after a reload, and downloadable as a model file that reads back. The run is forced onto WebGL
 * and matches the same run in Node step by step (backends.test.ts does the same on WebGPU and the CPU).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import type { Page } from "playwright-core";
import { openPage } from "../../scripts/browser/page-check.ts";
import { readTrainingFile } from "../../src/components/image/image-checkpoint.ts";
import { ARTIFACTS, useBuiltSite } from "./site-fixture.ts";
import { cifarSubset, compareStepsWithNode, describeSteps, expectStepsLikeNode, routeCifarSubset } from "./cifar-reference.ts";
import * as tf from "@tensorflow/tfjs";
import { useFastCpuKernels } from "../../src/components/runtime/cpu-kernels.ts";

const site = useBuiltSite();

// The reference run in Node: TF.js's CPU backend with the kernels the site's CPU fallback uses.
useFastCpuKernels();
await tf.setBackend("cpu");

/** How many buttons with exactly this name the reader can see. */
async function visibleButtons(page: Page, name: string): Promise<number> {
  const buttons = page.getByRole("button", { name, exact: true });
  let visible = 0;
  for (let i = 0; i < (await buttons.count()); i++) if (await buttons.nth(i).isVisible()) visible++;
  return visible;
}

test("CIFAR-10 page: previews at once; a tiny teacher → sCD run trains, samples, saves, and resumes after a reload", async () => {
  const cifar = cifarSubset(64);
  const { page, errors } = await openPage(site.browser, `${site.url}/cifar10?backend=webgl`, { beforeLoad: (p) => routeCifarSubset(p, cifar) });
  assert.ok((await page.locator(".preview-grid canvas").count()) === 10, "one preview strip per class");
  assert.match(await page.locator(".saved-run").innerText(), /No run is saved/);

  // Learning rates read as the paper writes them (the select's own format rounded 1e-4 to "0").
  assert.equal(await page.getByLabel("Teacher lr").locator("option:checked").innerText(), "1e-3");
  assert.equal(await page.getByLabel("Consistency lr").locator("option:checked").innerText(), "1e-4");
  assert.deepEqual(await page.getByLabel("Consistency lr").locator("option").allInnerTexts(), ["1e-5", "3e-5", "1e-4", "3e-4", "1e-3"]);

  // No class chosen: Train says so beside itself, and nothing starts.
  await page.getByLabel("automobile").uncheck();
  await page.getByRole("button", { name: "Train", exact: true }).click();
  assert.equal(await page.locator(".training-start-row .training-problem").innerText(), "Choose at least one class above.");
  assert.equal(await page.locator('[data-run="cifar10"]').count(), 0, "no run started");
  await page.getByLabel("automobile").check();

  await page.getByLabel("tiny (0.15 M parameters)").check();
  await page.getByLabel("Batch").selectOption({ label: "2" });
  await page.getByRole("spinbutton", { name: "Teacher steps" }).fill("3");
  await page.getByRole("spinbutton", { name: "Consistency steps" }).fill("2");
  await page.getByLabel("Teacher ODE steps").selectOption({ label: "4 Heun steps (7 evaluations)" });
  await page.getByRole("button", { name: "Train", exact: true }).click();

  const status = page.locator('[data-run="cifar10"]');
  await status.filter({ hasText: /teacher step \d\/3/ }).waitFor({ timeout: 240_000 });
  assert.equal(await page.locator(".training-start-row .training-problem").innerText(), "", "the earlier problem is gone");
  // While the run is live its own row downloads it; the saved-run summary shows no second row of buttons.
  assert.equal(await page.locator(".saved-run button").count(), 0, "no buttons in the saved-run summary during a run");
  assert.equal(await visibleButtons(page, "Download model"), 1);
  await status.filter({ hasText: /done: 2 steps of the student phase/ }).waitFor({ timeout: 400_000 });
  // Rows: 1 step, 2 steps, the teacher's ODE — each with 8 images from the same noise.
  assert.equal(await page.locator(".sample-strip canvas").count(), 10 + 3);
  assert.match(await page.locator(".card h3").first().innerText(), /Samples at step 2 \(consistency model/);
  assert.match(await status.innerText(), /worker backend: webgl/);
  // Step by step as the same run in Node (on 64 images per class, so that batches depend only on the seed).
  const steps = await compareStepsWithNode(page, cifar);
  console.log(`# webgl: CIFAR-10 run against Node, ${describeSteps(steps)}`);
  expectStepsLikeNode(steps, "webgl");
  await page.locator(".saved-run", { hasText: /step 2 of 2 \(student phase\)/ }).waitFor({ timeout: 10_000 });
  // After the run: one row of download buttons (the saved run's), not the ended run's as well.
  await page.locator(".saved-run button", { hasText: "Download model" }).waitFor({ timeout: 10_000 });
  assert.equal(await visibleButtons(page, "Download model"), 1);
  assert.equal(await visibleButtons(page, "Download checkpoint"), 1);
  // The charts' tick labels: decimals or 1e-4 style, never SI ("1m").
  const ticks = await page.locator(".grid svg g[aria-label='y-axis tick label'] text").allTextContents(); // SVG text has no innerText
  assert.ok(ticks.length > 0, "the charts have y tick labels");
  for (const tick of ticks) assert.match(tick, /^−?[\d.]+(e-?\d+)?$/, `tick label ${tick}`);
  await page.screenshot({ path: `${ARTIFACTS}/cifar10-live.png`, fullPage: true });
  // A phone's width: nothing wider than the screen (sample rows, charts, the form).
  await page.setViewportSize({ width: 390, height: 844 });
  await page.waitForTimeout(500);
  const [scroll, client] = await page.evaluate(() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]);
  assert.ok(scroll <= client, `page ${scroll} px wide in a ${client} px window`);
  await page.screenshot({ path: `${ARTIFACTS}/cifar10-live-390.png`, fullPage: true });
  await page.setViewportSize({ width: 1280, height: 900 });

  await page.reload();
  await page.locator(".saved-run", { hasText: /sCD, 16-channel UNet, automobile, step 2 of 2/ }).waitFor({ timeout: 30_000 });
  const downloading = page.waitForEvent("download");
  await page.locator(".saved-run").getByRole("button", { name: "Download model" }).click();
  const file = await (await downloading).path();
  const model = readTrainingFile(new Uint8Array(await readFile(file)));
  assert.equal(model.kind, "model");
  // The downloaded model, chosen as a file, becomes the teacher of the next run.
  await page.locator('.training-start input[type="file"]').setInputFiles(file);
  await page.getByRole("button", { name: /^Train from / }).waitFor({ timeout: 10_000 });
  assert.match(await page.locator(".training-start").innerText(), /a model \(16-channel UNet\)/);
  assert.deepEqual(await page.locator(".observablehq--error").allInnerTexts(), []);
  assert.deepEqual(errors, []);
  await page.close();
});
