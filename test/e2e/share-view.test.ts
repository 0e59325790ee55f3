/**
 * A link reproduces a view (ui/url-state.ts, ui/share-view.ts), on the built site: settings in the address
 * give the same figures as the same settings made by hand, a change rewrites the address, bad values are
 * ignored with a quiet note, a "try this" step sets the controls, the copy button copies the address, and the
 * main figures answer a hover with a tip. The TF.js pages' round trip runs on WebGL and WebGPU.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import type { Page } from "playwright-core";
import { openPage } from "../../scripts/browser/page-check.ts";
import { useBuiltSite } from "./site-fixture.ts";

const site = useBuiltSite();

/** The text of the page's tables (the consistency cuts and the solvers' orders on /trigflow). */
const tablesText = (page: Page) => page.evaluate(() => [...document.querySelectorAll("table")].slice(0, 2).map((t) => (t as HTMLElement).innerText).join("\n"));

/** A range's number box (Observable Inputs name it by the label; the slider itself has no name). */
const numberBox = (page: Page, label: string) => page.getByRole("spinbutton", { name: label, exact: true }).first();

/** Set a range the way a reader typing in its box does: the value, then the "input" event Inputs listen to. */
async function setRange(page: Page, label: string, value: number): Promise<void> {
  await numberBox(page, label).fill(String(value));
  await numberBox(page, label).dispatchEvent("input");
}

/** The shown option of a select (its DOM values are indices). */
const selectedText = (page: Page, label: string, scope: Page | ReturnType<Page["locator"]> = page) =>
  scope.getByRole("combobox", { name: label, exact: true }).first().evaluate((select) => (select as HTMLSelectElement).selectedOptions[0]?.textContent ?? "");

const settled = (page: Page) => page.waitForTimeout(1500);

/**
 * Move the pointer across a Plot figure, point by point on a grid, until its tip shows; returns the tip's text
 * ("" when no point of the grid brought one up). Plot's pointer shows the nearest datum within a radius, so
 * some positions have none.
 */
async function hoverForTip(page: Page, figure: ReturnType<Page["locator"]>): Promise<string> {
  await figure.scrollIntoViewIfNeeded();
  const box = (await figure.boundingBox())!;
  for (const fy of [0.3, 0.45, 0.6, 0.75]) {
    for (const fx of [0.2, 0.35, 0.5, 0.65, 0.8]) {
      await page.mouse.move(box.x + box.width * fx, box.y + box.height * fy, { steps: 2 });
      await page.waitForTimeout(150);
      const text = await figure.evaluate((svg) => [...svg.querySelectorAll("[aria-label=tip]")].map((g) => g.textContent ?? "").join(""));
      if (text) return text;
    }
  }
  return "";
}

test("/trigflow: settings from a link give the same figures as the same settings made by hand, and the address follows the controls", async () => {
  const query = "data=grid&modes=4&spread=0.12&solvers=euler,rk4&grid=karras";
  const linked = await openPage(site.browser, `${site.url}/trigflow?${query}`, { quietMs: 1500 });
  const byHand = await openPage(site.browser, `${site.url}/trigflow`, { quietMs: 1500 });
  try {
    assert.equal(await selectedText(linked.page, "Data"), "Square grid");
    await byHand.page.getByRole("combobox", { name: "Data" }).selectOption({ label: "Square grid" });
    await settled(byHand.page);
    await setRange(byHand.page, "Modes", 4);
    await setRange(byHand.page, "Spread of each mode", 0.12);
    await byHand.page.getByRole("checkbox", { name: "Heun" }).uncheck();
    await byHand.page.getByRole("checkbox", { name: "DDIM" }).uncheck();
    await byHand.page.getByRole("checkbox", { name: "RK4" }).check();
    await byHand.page.getByRole("radio", { name: /Karras/ }).check();
    await settled(byHand.page);
    const want = await tablesText(linked.page);
    assert.match(want, /rk4/, "the solver table shows the linked solvers");
    assert.doesNotMatch(want, /heun/);
    assert.equal(await tablesText(byHand.page), want, "the same numbers either way");
    // The hand-made view's address now holds the same settings (written after a short debounce).
    const search = await byHand.page.evaluate(() => location.search);
    assert.deepEqual(Object.fromEntries(new URLSearchParams(search)), Object.fromEntries(new URLSearchParams(query)));
    assert.deepEqual([...linked.errors, ...byHand.errors], []);
  } finally {
    await linked.page.close();
    await byHand.page.close();
  }
});

test("/trigflow: values out of range and unknown keys are ignored with a quiet note, never an error", async () => {
  const { page, errors, errorCells } = await openPage(site.browser, `${site.url}/trigflow?modes=99&spread=abc&colour=red`, { quietMs: 1500 });
  try {
    const note = page.locator(".share-ignored");
    await note.filter({ hasText: "colour=red" }).waitFor({ timeout: 10_000 });
    const text = await note.innerText();
    assert.match(text, /modes=99 \(outside 1…16\)/);
    assert.match(text, /spread=abc \(not a number\)/);
    assert.match(text, /colour=red \(not a setting of this page\)/);
    assert.equal(await numberBox(page, "Modes").inputValue(), "8", "the default stands");
    assert.deepEqual(await errorCells(), []);
    assert.deepEqual(errors, []);
  } finally {
    await page.close();
  }
});

test("/trigflow: a \"try this\" step sets its controls and resets the others; the copy button copies the address", async () => {
  const { page, errors } = await openPage(site.browser, `${site.url}/trigflow?spread=0.2`, { quietMs: 1500 });
  try {
    const before = await tablesText(page);
    await page.locator(".try-this a", { hasText: "One mode only" }).click();
    await settled(page);
    assert.equal(await page.evaluate(() => location.search), "?modes=1", "the step's setting, and spread back at its default");
    assert.equal(await numberBox(page, "Modes").inputValue(), "1");
    assert.equal(await numberBox(page, "Spread of each mode").inputValue(), "0.06");
    assert.notEqual(await tablesText(page), before, "the figures follow");
    await page.getByRole("button", { name: "Copy link to this view" }).click();
    const status = page.locator(".share-bar [role=status]");
    await status.filter({ hasText: /Copied|Copy this link/ }).waitFor({ timeout: 5_000 });
    // Where the clipboard is refused, the link is shown to copy by hand; where it worked, reading it back may
    // still be refused (headless Chromium grants writes only), so the shown link is what can always be checked.
    if (!(await status.innerText()).startsWith("Copied")) assert.equal(await page.locator(".share-link").inputValue(), await page.evaluate(() => location.href));
    assert.deepEqual(errors, []);
  } finally {
    await page.close();
  }
});

test("/trigflow: hovering a path says which noise point it started from", async () => {
  const { page, errors } = await openPage(site.browser, `${site.url}/trigflow`, { quietMs: 1500 });
  try {
    const tip = await hoverForTip(page, page.locator(".figure-row .card svg[class^=plot]").first());
    assert.match(tip, /path \d+ at t = [\d.]+.*from noise \(-?[\d.]+, -?[\d.]+\).*ends at/s);
    assert.deepEqual(errors, []);
  } finally {
    await page.close();
  }
});

test("every page's \"try this\" steps lead to a place that exists on the page", async () => {
  for (const path of ["/trigflow", "/jvp", "/stabilizers", "/discrete", "/scaling", "/cifar10", "/pretrained"]) {
    const { page, errors } = await openPage(site.browser, `${site.url}${path}`);
    try {
      const links = page.locator(".try-this a");
      await links.first().waitFor({ timeout: 30_000 });
      const targets = await links.evaluateAll((anchors) => anchors.map((a) => decodeURIComponent(new URL((a as HTMLAnchorElement).href).hash.slice(1))));
      assert.ok(targets.length >= 3 && targets.length <= 5, `${path}: ${targets.length} steps`);
      for (const target of targets) assert.ok(await page.evaluate((id) => document.getElementById(id) !== null, target), `${path}: #${target} exists`);
      assert.deepEqual(errors, []);
    } finally {
      await page.close();
    }
  }
});

for (const backend of ["webgl", "webgpu"] as const) {
  test(`/stabilizers on ${backend}: a link sets the ablation and run B's form, and the quality chart answers a hover`, async () => {
    const { page, errors } = await openPage(site.browser, `${site.url}/stabilizers?backend=${backend}&stabilizer=cnoise&b-cnoise=scaled1000&b-warmup=50`, { quietMs: 1500 });
    try {
      await page.locator(`.notice[data-backend=${backend}]`).waitFor({ timeout: 120_000 });
      assert.equal(await page.getByRole("radio", { name: "Time conditioning c_noise(t)" }).isChecked(), true);
      const runB = page.locator(".card", { has: page.getByRole("heading", { name: "Run B" }) });
      assert.equal(await selectedText(page, "c_noise(t)", runB), "1000 t");
      assert.equal(await runB.getByRole("spinbutton", { name: /Warm-up/ }).inputValue(), "50");
      assert.equal(await selectedText(page, "c_noise(t)", page.locator(".card", { has: page.getByRole("heading", { name: "Run A" }) })), "t (sCM)", "run A keeps its default");
      // The precomputed runs of this ablation are the ones drawn: the chart's legend names them.
      const quality = page.locator(".card", { has: page.getByRole("heading", { name: "Exact quality of 2-step samples" }) }).first();
      assert.match(await quality.innerText(), /1000·t/);
      // Precomputed runs are means over seeds: the tip gives the mean ± sd and the number of seeds.
      // (Plot's tip breaks long lines at a space, which textContent then reads as a zero-width space.)
      const tip = (await hoverForTip(page, quality.locator("svg[class^=plot]"))).replace(/\u200b/g, " ");
      assert.match(tip, /step \d+.*sliced W₂ 0\.\d{4} ± 0\.\d{4}\s+\(2-step\s+samples;\s+mean\s+±\s+sd\s+over\s+\d+\s+seeds\)/s);
      assert.deepEqual(errors, []);
    } finally {
      await page.close();
    }
  });
}
