/**
 * End-to-end layout checks on the built site (run `npm run build` first): no page scrolls sideways on a
 * 390 px phone, the landing page links every page, and the TrigFlow page's equation labels are unique and
 * its figure labels do not overprint each other. `horizontalOverflow` is exported so other pages' tests can
 * run the same check.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import type { Locator, Page } from "playwright-core";
import config from "../../observablehq.config.ts";
import { openPage } from "../../scripts/browser/page-check.ts";
import { ARTIFACTS, useBuiltSite, type Site } from "./site-fixture.ts";
import { placeLabels } from "../../src/components/toy/experiments/pf-ode.ts";

export const PHONE = { width: 390, height: 844 } as const;

/**
 * Elements that stick out of the viewport sideways and are not inside a box that scrolls or clips them,
 * i.e. the elements that make the page itself scroll sideways. Only the outermost offender of a subtree is
 * listed, each as "tag.class "text…" [left, right]" so a failing test says what to fix. Empty when the page
 * fits.
 */
export async function horizontalOverflow(page: Page): Promise<string[]> {
  return page.evaluate(OVERFLOW_PROBE) as Promise<string[]>;
}

// Run in the page as source text: tsx compiles this file with esbuild's keepNames, whose __name helper
// would be missing in the page if the probe were passed as a function.
const OVERFLOW_PROBE = `(() => {
  const width = document.documentElement.clientWidth;
  const offenders = [];
  for (const element of document.body.querySelectorAll("*")) {
    // An SVG's parts are judged by the SVG element itself.
    const svg = element.closest("svg");
    if (svg && svg !== element) continue;
    const rect = element.getBoundingClientRect();
    if (rect.width === 0 && rect.height === 0) continue;
    if (rect.right <= width + 0.5 && rect.left >= -0.5) continue;
    if (getComputedStyle(element).position === "fixed") continue;
    // Inside a box that scrolls or clips sideways (other than the page itself) it cannot widen the page.
    let clipped = false;
    for (let up = element.parentElement; up && up !== document.body && up !== document.documentElement; up = up.parentElement) {
      if (getComputedStyle(up).overflowX !== "visible") { clipped = true; break; }
    }
    if (clipped) continue;
    if (offenders.some((outer) => outer.contains(element))) continue;
    offenders.push(element);
  }
  return offenders.map((element) => {
    const rect = element.getBoundingClientRect();
    const classes = typeof element.className === "string" && element.className.trim() ? "." + element.className.trim().split(/\\s+/).join(".") : "";
    const text = (element.textContent || "").replace(/\\s+/g, " ").trim().slice(0, 60);
    return element.tagName.toLowerCase() + classes + ' "' + text + '" [' + Math.round(rect.left) + ", " + Math.round(rect.right) + "] in " + width + " px";
  });
})()`;

/** Open a page of the built site at a phone's viewport, with Framework's cells settled at that width. */
export async function openOnPhone(site: Site, path: string) {
  const check = await openPage(site.browser, `${site.url}${path}`, { quietMs: 1500 });
  await check.page.setViewportSize(PHONE);
  // Figures drawn with resize() redraw for the new width on the next frames.
  await check.page.waitForTimeout(800);
  return check;
}

/**
 * Pairs of the labels `labels` matches whose boxes overlap by more than a pixel each way: labels that
 * overprint each other. Each pair is described by its two texts.
 */
export async function overlappingLabels(labels: Locator): Promise<string[]> {
  return labels.evaluateAll((elements) => {
    const boxes = elements.map((element) => ({ text: element.textContent ?? "", rect: element.getBoundingClientRect() }))
      .filter(({ rect }) => rect.width > 0 && rect.height > 0);
    const pairs: string[] = [];
    for (let i = 0; i < boxes.length; i++) {
      for (let j = i + 1; j < boxes.length; j++) {
        const a = boxes[i].rect;
        const b = boxes[j].rect;
        const overlapX = Math.min(a.right, b.right) - Math.max(a.left, b.left);
        const overlapY = Math.min(a.bottom, b.bottom) - Math.max(a.top, b.top);
        if (overlapX > 1 && overlapY > 1) pairs.push(`"${boxes[i].text}" / "${boxes[j].text}"`);
      }
    }
    return pairs;
  });
}

const site = useBuiltSite();

for (const path of ["/", ...config.pages.map((p) => p.path)]) {
  test(`page ${path} does not scroll sideways at ${PHONE.width} px`, async () => {
    const { page, errors } = await openOnPhone(site, path);
    await page.screenshot({ path: `${ARTIFACTS}/phone-${path === "/" ? "index" : path.slice(1)}.png`, fullPage: true });
    assert.deepEqual(await horizontalOverflow(page), [], "elements wider than the screen");
    const scrollWidth = await page.evaluate(() => document.documentElement.scrollWidth);
    assert.ok(scrollWidth <= PHONE.width, `the page is ${scrollWidth} px wide on a ${PHONE.width} px screen`);
    assert.deepEqual(errors, []);
    await page.close();
  });
}

test("the landing page links every page of the site, each with a line on what the reader does there", async () => {
  const { page, errors } = await openPage(site.browser, `${site.url}/`, { quietMs: 1500 });
  // The "Pages" list is the list that follows the "Pages" heading in the page's main text.
  const items = await page.locator("#observablehq-main h2#pages + ul > li").evaluateAll((lis) =>
    lis.map((li) => ({ href: li.querySelector("a")?.getAttribute("href") ?? "", text: (li.textContent ?? "").trim() })));
  for (const { path, name } of config.pages) {
    const item = items.find(({ href }) => href.replace(/^\.\//, "/") === path);
    assert.ok(item, `the Pages list links ${path} (${name}); it links ${items.map((i) => i.href).join(", ")}`);
    assert.ok(item.text.length > name.length + 30, `the entry for ${path} says what the reader does there: "${item.text}"`);
  }
  assert.deepEqual(errors, []);
  await page.close();
});

test("TrigFlow page: no two different equations carry the same (Eq. N) label", async () => {
  const { page, errors } = await openPage(site.browser, `${site.url}/trigflow`, { quietMs: 1500 });
  await page.locator(".equation-label").first().waitFor({ timeout: 60_000 });
  // texBlock(source, {label}) sets the number beside the formula as .equation-label; a number typed into the
  // TeX itself, \text{(Eq. N)}, counts too. KaTeX keeps each formula's TeX in a MathML annotation.
  const labelled = await page.locator(".equation").evaluateAll((equations) => equations.map((equation) => ({
    label: equation.querySelector(".equation-label")?.textContent ?? "",
    source: equation.querySelector("annotation")?.textContent ?? "",
  })));
  for (const source of await page.locator("annotation[encoding='application/x-tex']").allTextContents()) {
    for (const match of source.matchAll(/\\text\{(\(Eq\.[^)]*\))\}/g)) labelled.push({ label: match[1], source: source.replace(match[0], "") });
  }
  const byLabel = new Map<string, Set<string>>();
  for (const { label, source } of labelled) {
    const key = label.replace(/\s+/g, " ").trim();
    const formula = source.replace(/\\q?quad/g, "").replace(/\s+/g, "");
    byLabel.set(key, (byLabel.get(key) ?? new Set()).add(formula));
  }
  assert.ok(byLabel.size >= 3, `the page labels its equations: ${[...byLabel.keys()].join(", ")}`);
  for (const [label, formulas] of byLabel) {
    assert.equal(formulas.size, 1, `${label} labels ${formulas.size} different formulas: ${[...formulas].join("  |  ")}`);
  }
  // The numbers are the paper's (arXiv 2410.11081 v2): the PF-ODE is Eq. 3,
  // the consistency function Eq. 5, TrigFlow's DDIM step Eq. 26.
  const expected: [string, RegExp][] = [["(Eq. 3)", /^\\frac\{\\mathrmdx_t\}/], ["(Eq. 5)", /^f_\\theta\(x_t,t\)=/], ["(Eq. 26)", /^x_t=\\cos\(s-t\)/]];
  for (const [label, formula] of expected) {
    const formulas = [...(byLabel.get(label) ?? [])];
    assert.ok(formulas.length === 1 && formula.test(formulas[0]), `${label} labels ${formulas.join(" | ") || "nothing"}`);
  }
  assert.deepEqual(errors, []);
  await page.close();
});

for (const viewport of [{ width: 1280, height: 900 }, PHONE]) {
  test(`TrigFlow page: the time labels of the consistency figure do not overprint each other at ${viewport.width} px`, async () => {
    const { page, errors } = await openPage(site.browser, `${site.url}/trigflow`, { quietMs: 1500 });
    await page.setViewportSize(viewport);
    await page.waitForTimeout(800);
    const labels = page.locator(".card svg text").filter({ hasText: /^t=\d/ });
    assert.ok((await labels.count()) >= 3, "the figure labels some of its cut times");
    assert.deepEqual(await overlappingLabels(labels), [], "overlapping labels");
    await page.locator(".card", { has: page.locator("svg text", { hasText: /^t=\d/ }) }).screenshot({ path: `${ARTIFACTS}/trigflow-consistency-${viewport.width}.png` });
    assert.deepEqual(errors, []);
    await page.close();
  });

  test(`landing page: the titles of the four 2-D panels do not overprint each other at ${viewport.width} px`, async () => {
    const { page, errors } = await openPage(site.browser, `${site.url}/`, { quietMs: 1500 });
    await page.setViewportSize(viewport);
    await page.waitForTimeout(800);
    const titles = page.locator(".card :is(text, div)").filter({ hasText: /^(Euler, 1 evaluation|DDIM, 2 evaluations|RK4, 400 evaluations|consistency function, 1 evaluation)$/ });
    assert.equal(await titles.count(), 4, "one title per panel");
    assert.deepEqual(await overlappingLabels(titles), [], "overlapping titles");
    assert.deepEqual(errors, []);
    await page.close();
  });
}

for (const path of ["/", "/trigflow"]) {
  test(`page ${path}: no axis label uses an SI prefix (1m, 10k) and log axes label the ticks they draw`, async () => {
    const { page, errors } = await openPage(site.browser, `${site.url}${path}`, { quietMs: 1500 });
    const ticks = await page.locator(".card svg g[aria-label$='tick label'] text").allTextContents();
    assert.ok(ticks.length > 0, "the figures have tick labels");
    assert.deepEqual(ticks.filter((t) => /^[−-]?[\d.,]+\s?[yzafpnµmkMGTPEZY]$/.test(t.trim())), [], "SI-prefixed tick labels");
    if (path === "/") {
      // The claim figure's log axis: every chosen tick has its number (d3's log format would blank 5 and 50).
      for (const label of ["1", "2", "5", "10", "20", "50", "100"]) assert.ok(ticks.includes(label), `tick ${label} is labelled`);
    }
    assert.deepEqual(errors, []);
    await page.close();
  });
}

// The placement rule behind the consistency figure's labels, without a browser: crowded points get labels
// that neither overlap each other nor cover a point, inside the frame, or none at all.
test("placeLabels: labels of crowded points never overlap, cover a point, or leave the frame", () => {
  const points = [{ x: 100, y: 100 }, { x: 103, y: 104 }, { x: 106, y: 109 }, { x: 110, y: 115 }, { x: 130, y: 160 }, { x: 290, y: 150 }];
  const size = { width: 34, height: 11 };
  const bounds = { left: 0, right: 300, top: 0, bottom: 200 };
  const placed = placeLabels(points, points.map(() => size), bounds);
  assert.deepEqual(placed[4], { dx: 7, dy: 0, textAnchor: "start" }, "a lone point is labelled on its right");
  assert.equal(placed[5]?.textAnchor, "end", "a point at the right edge is labelled on its left");
  const boxes = placed.flatMap((spot, i) => {
    if (!spot) return [];
    const left = spot.textAnchor === "start" ? points[i].x + spot.dx : points[i].x + spot.dx - size.width;
    const top = points[i].y + spot.dy - size.height / 2;
    return [{ left, right: left + size.width, top, bottom: top + size.height }];
  });
  assert.ok(boxes.length >= 4, `most crowded points keep a label (${boxes.length} of ${points.length})`);
  for (const [i, a] of boxes.entries()) {
    assert.ok(a.left >= 0 && a.right <= 300 && a.top >= 0 && a.bottom <= 200, "inside the frame");
    for (const b of boxes.slice(i + 1)) assert.ok(a.right <= b.left || b.right <= a.left || a.bottom <= b.top || b.bottom <= a.top, "labels overlap");
    for (const p of points) assert.ok(p.x + 4 <= a.left || a.right <= p.x - 4 || p.y + 4 <= a.top || a.bottom <= p.y - 4, "a label covers a point");
  }
});
