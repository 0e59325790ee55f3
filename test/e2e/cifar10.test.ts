/**
 * End-to-end for the CIFAR-10 training page (run `npm run build` first): real CIFAR-10 previews at once, then
 * a tiny live run — teacher then sCD — streamed, trained and sampled in a Web Worker of Debian's Chromium
 * (SwiftShader: slow, so the run is a few steps of the tiny UNet at batch 2), saved in IndexedDB, offered
 * for resuming after a reload, and downloadable as a model file that reads back.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { openPage } from "../../scripts/browser/page-check.ts";
import { readTrainingFile } from "../../src/components/image-checkpoint.ts";
import { ARTIFACTS, useBuiltSite } from "./site-fixture.ts";

const site = useBuiltSite();

test("CIFAR-10 page: previews at once; a tiny teacher → sCD run trains, samples, saves, and resumes after a reload", async () => {
  const { page, errors } = await openPage(site.browser, `${site.url}/cifar10`);
  assert.ok((await page.locator(".preview-grid canvas").count()) === 10, "one preview strip per class");
  assert.match(await page.locator(".saved-run").innerText(), /No run is saved/);

  await page.getByLabel("tiny (0.15 M parameters)").check();
  await page.getByLabel("Batch").selectOption({ label: "2" });
  await page.getByRole("spinbutton", { name: "Teacher steps" }).fill("3");
  await page.getByRole("spinbutton", { name: "Consistency steps" }).fill("2");
  await page.getByLabel("Teacher ODE steps").selectOption({ label: "4 Heun steps (7 evaluations)" });
  await page.getByRole("button", { name: "Train", exact: true }).click();

  const status = page.locator('[data-run="cifar10"]');
  await status.filter({ hasText: /teacher step \d\/3/ }).waitFor({ timeout: 240_000 });
  await status.filter({ hasText: /done: 2 steps of the student phase/ }).waitFor({ timeout: 400_000 });
  // Rows: 1 step, 2 steps, the teacher's ODE — each with 8 images from the same noise.
  assert.equal(await page.locator(".sample-strip canvas").count(), 10 + 3);
  assert.match(await page.locator(".card h3").first().innerText(), /Samples at step 2 \(consistency model/);
  assert.match(await status.innerText(), /worker backend: (webgpu|webgl|cpu)/);
  await page.locator(".saved-run", { hasText: /step 2 of 2 \(student phase\)/ }).waitFor({ timeout: 10_000 });
  await page.screenshot({ path: `${ARTIFACTS}/cifar10-live.png`, fullPage: true });

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
