/**
 * End-to-end: every page of the built site (run `npm run build` first) loads in Debian's Chromium with no
 * error cell and no console error, and the controls change the figures. Screenshots go to test-artifacts/.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import config from "../../observablehq.config.ts";
import { openPage } from "../../scripts/browser/page-check.ts";
import { ARTIFACTS, useBuiltSite } from "./site-fixture.ts";

const site = useBuiltSite();

for (const path of ["/", ...config.pages.map((p) => p.path)]) {
  test(`page ${path} loads with no error cell and no console error`, async () => {
    const { page, errors, errorCells } = await openPage(site.browser, `${site.url}${path}`);
    await page.screenshot({ path: `${ARTIFACTS}/${path === "/" ? "index" : path.slice(1)}.png`, fullPage: true });
    assert.deepEqual(await errorCells(), [], "error cells");
    assert.deepEqual(errors, [], "console errors");
    assert.ok((await page.locator("h1").count()) > 0, "the page has a title");
    await page.close();
  });
}

test("TrigFlow page: moving the time slider redraws the paths figure", async () => {
  const { page, errors } = await openPage(site.browser, `${site.url}/trigflow`);
  const figure = page.locator(".card svg").first();
  const before = await figure.innerHTML();
  await page.locator("form.scrubber input[type=range]").evaluate((input: HTMLInputElement) => {
    input.value = "0.4";
    input.dispatchEvent(new Event("input", { bubbles: true }));
  });
  await page.waitForTimeout(500);
  assert.notEqual(await figure.innerHTML(), before, "the figure changed");
  assert.match(await page.locator("form.scrubber output").innerText(), /t = 0\.400/);
  await page.screenshot({ path: `${ARTIFACTS}/trigflow-t0.4.png` });
  assert.deepEqual(errors, []);
  await page.close();
});

test("TrigFlow page: play animates the time, pause stops it", async () => {
  const { page, errors } = await openPage(site.browser, `${site.url}/trigflow`);
  const output = page.locator("form.scrubber output");
  const start = await output.innerText();
  await page.locator("form.scrubber button").click();
  await page.waitForTimeout(800);
  await page.locator("form.scrubber button").click();
  const paused = await output.innerText();
  assert.notEqual(paused, start, "time moved while playing");
  await page.waitForTimeout(400);
  assert.equal(await output.innerText(), paused, "time stays put after pause");
  assert.deepEqual(errors, []);
  await page.close();
});

test("TrigFlow page: the σ ↔ t ↔ s sliders stay linked", async () => {
  const { page, errors } = await openPage(site.browser, `${site.url}/trigflow`);
  const sliders = page.getByRole("slider", { name: /EDM noise level/ });
  await sliders.evaluate((input: HTMLInputElement) => {
    input.value = "0"; // log10 σ = 0, i.e. σ = 1 and t = arctan(1/σd) = arctan 2
    input.dispatchEvent(new Event("input", { bubbles: true }));
  });
  await page.waitForTimeout(300);
  const tValue = Number(await page.getByRole("slider", { name: /TrigFlow time/ }).inputValue());
  assert.ok(Math.abs(tValue - Math.atan(2)) < 1e-3, `t = ${tValue}, expected arctan 2 = ${Math.atan(2)}`);
  assert.deepEqual(errors, []);
  await page.close();
});

test("TrigFlow page: choosing another data set redraws the figures", async () => {
  const { page, errors } = await openPage(site.browser, `${site.url}/trigflow`);
  const figure = page.locator(".card svg").first();
  const before = await figure.innerHTML();
  await page.locator("select").first().selectOption({ label: "Square grid" });
  await page.waitForTimeout(800);
  assert.notEqual(await figure.innerHTML(), before);
  assert.deepEqual(await page.locator(".observablehq--error").allInnerTexts(), []);
  assert.deepEqual(errors, []);
  await page.close();
});

test("backend page: the speed check runs and reports GFLOP/s", async () => {
  const { page, errors } = await openPage(site.browser, `${site.url}/backend`);
  await page.getByRole("button", { name: "Run speed check" }).click();
  await page.getByText(/GFLOP\/s on (webgpu|webgl|cpu)/).waitFor({ timeout: 60_000 });
  assert.deepEqual(await page.locator(".observablehq--error").allInnerTexts(), []);
  assert.deepEqual(errors, []);
  await page.close();
});
