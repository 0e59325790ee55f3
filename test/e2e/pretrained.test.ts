/**
 * End-to-end, the pretrained-models page of the built site (run `npm run build` first) in Debian's Chromium:
 * it loads with no error; the tiny diffusers fixture (test/fixtures/unet2d/cm.*) goes in through the file input
 * and samples 1 and 2 steps into non-blank canvases; a pickle gets one clear message and the page keeps working;
 * an sCM Lab checkpoint dropped on the drop zone loads without a config; a download attempt with Hugging Face blocked says CORS/network.
 * The internet is never reached: Hugging Face's hosts do not resolve in this browser, and the page's requests to
 * them are aborted and recorded.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { mkdir } from "node:fs/promises";
import { resolve } from "node:path";
import type { Browser, Page } from "playwright-core";
import { serveDirectory } from "../../scripts/browser/static-server.ts";
import { launchChromium } from "../../scripts/browser/chromium.ts";
import { openPage } from "../../scripts/browser/page-check.ts";
import { writeSafetensors } from "../../src/components/checkpoint/safetensors.ts";
import { SmallUNet } from "../../src/components/nn/unet.ts";
import { scmLabUnetMetadata } from "../../src/components/nn/unet-checkpoint-metadata.ts";
import { tinyTrainingCheckpoint } from "../tiny-training-checkpoint.ts";

const ARTIFACTS = resolve("test-artifacts");
const FIXTURES = resolve("test/fixtures/unet2d");
const HUB = /huggingface\.co|hf\.co|xethub/;
let server: Awaited<ReturnType<typeof serveDirectory>>;
let browser: Browser;

before(async () => {
  await mkdir(ARTIFACTS, { recursive: true });
  server = await serveDirectory(resolve("dist"));
  // Belt and braces: no request to the hub can leave this browser, whatever the page does.
  browser = await launchChromium(["--host-resolver-rules=MAP huggingface.co ~NOTFOUND, MAP *.huggingface.co ~NOTFOUND, MAP *.hf.co ~NOTFOUND, MAP *.xethub.hf.co ~NOTFOUND"]);
});
after(async () => {
  await browser?.close();
  await server?.close();
});

/** Pixels from the bottom of `above` to the top of `below` (negative when they overlap or `below` is higher). */
async function gap(above: ReturnType<Page["locator"]>, below: ReturnType<Page["locator"]>): Promise<number> {
  const [a, b] = [await above.boundingBox(), await below.boundingBox()];
  assert.ok(a && b, "both are shown");
  return b.y - (a.y + a.height);
}

/** Do something that starts one task of the page, and wait until that task has ended. */
async function task(page: Page, action: () => Promise<unknown>): Promise<void> {
  const finished = () => page.locator(".pretrained-status").getAttribute("data-finished");
  const before = await finished();
  await action();
  await page.waitForFunction((previous) => document.querySelector(".pretrained-status")?.getAttribute("data-finished") !== previous, before, { timeout: 30_000 });
}

/** Load files through the page's file input and wait until the page has dealt with them. */
async function chooseFiles(page: Page, files: Parameters<Page["setInputFiles"]>[1]): Promise<void> {
  await task(page, () => page.locator(".pretrained-drop input[type=file]").setInputFiles(files));
}

/** Press Sample, wait for the samples; returns, per canvas shown, how many distinct red values it has. */
async function sample(page: Page, steps: 1 | 2): Promise<number[]> {
  await page.locator(`input[name=pretrained-steps][value="${steps}"]`).check();
  await task(page, () => page.getByRole("button", { name: "Sample" }).click());
  assert.equal(await page.locator(".pretrained-error").count(), 0, "no error while sampling");
  assert.equal(await page.locator(".pretrained-gallery figure").count(), steps, "one row of images per step");
  return page.locator("canvas.pretrained-sample").evaluateAll((canvases: HTMLCanvasElement[]) =>
    canvases.map((canvas) => {
      const { data } = canvas.getContext("2d")!.getImageData(0, 0, canvas.width, canvas.height);
      return new Set(data.filter((_, i) => i % 4 === 0)).size;
    }),
  );
}

test("pretrained page: fixture model through the file input, 1- and 2-step samples, clear errors, no internet", async () => {
  const started = Date.now();
  const { page, errors, errorCells } = await openPage(browser, `${server.url}/pretrained`);
  const hubRequests: string[] = [];
  await page.route(HUB, (route) => {
    hubRequests.push(route.request().url());
    return route.abort("failed");
  });
  assert.deepEqual(await errorCells(), [], "error cells");
  assert.deepEqual(errors, [], "console errors on load");
  assert.equal(await page.locator("canvas.pretrained-sample").count(), 0, "nothing sampled before a click");

  // Headless Chromium's only WebGPU adapter is SwiftShader, a software emulation: the big download is disabled
  // with its reason.
  const download = page.getByRole("button", { name: /^Download/ });
  assert.ok(await download.isDisabled(), "download disabled without WebGPU");
  assert.match(await page.locator(".pretrained-blocker").innerText(), /WebGPU/);
  assert.match(await page.locator(".notice.warn").first().innerText(), /No GPU through WebGPU here.*software adapter/);

  // The tiny class-conditional diffusers fixture with its config, chosen together.
  await chooseFiles(page, [`${FIXTURES}/cm.config.json`, `${FIXTURES}/cm.weights.safetensors`]);
  assert.match(await page.locator(".pretrained-loaded").innerText(), /Loaded: cm\.weights\.safetensors .* 16×16 images, 10 classes/);
  assert.equal(await page.locator(".pretrained-error").count(), 0);
  await page.getByRole("combobox", { name: "Class" }).selectOption("3");
  const one = await sample(page, 1);
  assert.equal(one.length, 4, "4 images after one step");
  assert.ok(one.every((distinct) => distinct > 4), `non-blank images: ${one}`);
  const two = await sample(page, 2);
  assert.equal(two.length, 8, "4 after the first step and 4 after the second");
  assert.ok(two.every((distinct) => distinct > 4), `non-blank images: ${two}`);
  assert.match(await page.locator(".pretrained-timing").innerText(), /class 3, seed 0: 2 steps for 4 images in .* per step .* on TF\.js (webgl|cpu)/);
  await page.screenshot({ path: `${ARTIFACTS}/pretrained-samples.png`, fullPage: true });

  // A pickle: one clear message, and the loaded model is still there.
  await chooseFiles(page, { name: "diffusion_pytorch_model.bin", mimeType: "application/octet-stream", buffer: Buffer.from([0x80, 0x02, 0x63, 0x63, 0x6f, 0x6c, 0x6c, 0x65, 0x63, 0x74, 0x69, 0x6f, 0x6e, 0x73, 0x0a]) });
  const messages = await page.locator(".pretrained-error").allInnerTexts();
  assert.equal(messages.length, 1, "one message");
  assert.match(messages[0], /Could not load diffusion_pytorch_model\.bin: not a safetensors file: this is a Python pickle/);
  assert.match(await page.locator(".pretrained-loaded").innerText(), /Loaded: cm\.weights\.safetensors/);
  assert.equal((await sample(page, 1)).length, 4, "the page keeps working after the bad file");

  // Weights without their config: the message says what is missing, right under the drop zone.
  await chooseFiles(page, [`${FIXTURES}/cm.weights.safetensors`]);
  assert.match(await page.locator(".pretrained-error").innerText(), /needs its config\.json/);
  assert.ok(await gap(page.locator(".pretrained-drop"), page.locator(".pretrained-error")) < 40, "the file's error is right under the drop zone");

  // A /cifar10 training checkpoint is named as one, with the file to choose instead.
  await chooseFiles(page, { name: "scm-lab-student-step7.safetensors", mimeType: "application/octet-stream", buffer: Buffer.from(tinyTrainingCheckpoint()) });
  const run = await page.locator(".pretrained-error").innerText();
  assert.match(run, /Could not load scm-lab-student-step7\.safetensors: this is an sCM Lab training checkpoint from the \/cifar10 page \(step 7 of the sCD phase\)/);
  assert.match(run, /download its model file on \/cifar10 \("Download model"/);
  assert.doesNotMatch(run, /diffusers|scm_lab_unet|\n\s+at /);

  // An sCM Lab checkpoint describes itself: no config, TrigFlow sampler, unconditional (no class choice).
  const net = new SmallUNet({ resolution: 8, baseChannels: 8, channelMult: [1, 2], attentionResolutions: [4], outputGain: 1, seed: 2 });
  const scmLab = Buffer.from(writeSafetensors(await net.params.save(), scmLabUnetMetadata(net.config)));
  net.dispose();
  // Dropped on the drop zone this time, as a reader would drag it from their file manager.
  await task(page, () =>
    page.evaluate(([bytes, name]) => {
      const transfer = new DataTransfer();
      transfer.items.add(new File([new Uint8Array(bytes)], name));
      document.querySelector(".pretrained-drop")!.dispatchEvent(new DragEvent("drop", { dataTransfer: transfer, bubbles: true, cancelable: true }));
    }, [Array.from(scmLab), "scm-lab-unet.safetensors"] as const),
  );
  assert.match(await page.locator(".pretrained-loaded").innerText(), /sCM Lab UNet \(TrigFlow sampler\)/);
  assert.ok(await page.getByRole("combobox", { name: "Class" }).isHidden(), "no class for an unconditional model");
  const trig = await sample(page, 2);
  assert.equal(trig.length, 8);
  assert.match(await page.locator(".pretrained-gallery figcaption").first().innerText(), /t = 1\.5645/);

  // Reading a hub model's config with the hub unreachable: the CORS/network message, nothing else.
  const read = page.getByRole("button", { name: /Read its config\.json/ });
  await task(page, () => read.click());
  assert.match(await page.locator(".pretrained-error").innerText(), /Could not read the model's config\.json: the server refused the request from this page \(CORS\) or the network failed: https:\/\/huggingface\.co\/openai\/diffusers-cd_imagenet64_l2\/resolve\/5f462e4/);
  // ...directly under the button that was pressed, not a screen further down.
  assert.ok(await gap(read, page.locator(".pretrained-error")) < 40, "the config error is right under its button");
  await page.locator(".pretrained-error").scrollIntoViewIfNeeded();
  assert.ok(hubRequests.some((url) => url.endsWith("/unet/config.json")), `the page asked for the config: ${hubRequests}`);
  assert.ok(await download.isDisabled());
  await page.screenshot({ path: `${ARTIFACTS}/pretrained-errors.png`, fullPage: true });

  // Only the blocked hub requests may have failed.
  assert.deepEqual(errors.filter((e) => !HUB.test(e) && !/ERR_FAILED|ERR_NAME_NOT_RESOLVED/.test(e)), [], "console errors");
  await page.close();
  console.log(`pretrained e2e: ${((Date.now() - started) / 1000).toFixed(1)} s`);
});

test("pretrained page at 390 px: no sideways scroll, errors beside their controls", async () => {
  const { page, errors } = await openPage(browser, `${server.url}/pretrained`);
  await page.route(HUB, (route) => route.abort("failed"));
  await page.setViewportSize({ width: 390, height: 844 });
  await page.waitForTimeout(300);
  const width = () => page.evaluate(() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]);
  const [scroll, client] = await width();
  assert.ok(scroll <= client, `page ${scroll} px wide in a ${client} px window`);
  const read = page.getByRole("button", { name: /Read its config\.json/ });
  await task(page, () => read.click());
  const message = page.locator(".pretrained-error");
  const gapPx = await gap(read, message);
  assert.ok(gapPx >= 0 && gapPx < 40, `the error ${gapPx} px under its button`);
  const box = (await message.boundingBox())!;
  assert.ok(box.x >= 0 && box.x + box.width <= 390, "the error fits the screen");
  const [after, clientAfter] = await width();
  assert.ok(after <= clientAfter, `page ${after} px wide after the error`);
  await read.scrollIntoViewIfNeeded();
  await page.screenshot({ path: `${ARTIFACTS}/pretrained-390-error.png` });
  assert.deepEqual(errors.filter((e) => !HUB.test(e) && !/ERR_FAILED|ERR_NAME_NOT_RESOLVED/.test(e)), [], "console errors");
  await page.close();
});
