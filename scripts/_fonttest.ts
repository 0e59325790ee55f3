import { launchChromium } from "/work/main/scripts/browser/chromium.ts";
import { readFileSync } from "node:fs";
const browser = await launchChromium();
for (const body of ["<p style=\"font-family: -apple-system, BlinkMacSystemFont, avenir next, avenir, helvetica, helvetica neue, ubuntu, roboto, noto, segoe ui, arial, sans-serif\">sans stack σ</p><p style=\"font-family: Source Serif 4, Iowan Old Style, Apple Garamond, Palatino Linotype, Times New Roman, Droid Serif, Times, serif, Apple Color Emoji, Segoe UI Emoji, Segoe UI Symbol\">serif stack σ ≈</p><code style=\"font-family:Menlo, Consolas, monospace\">mono</code>", "<math display=block><mi>x</mi><mo>=</mo><msqrt><mi>σ</mi></msqrt></math>", "<p>after math</p>", "<p>hello world plain ascii text</p>", "<p style='font-family:serif'>hello σ θ ∂ ≈ → ℓ ∞ x₁</p>", "<p style='font-family:sans-serif'>hello world</p>"]) {
  const page = await browser.newPage();
  await browser.startTracing(page, { path: "/tmp/prof/t2.json", categories: ["devtools.timeline"] });
  await page.setContent(`<html><body>${body}</body></html>`);
  await page.waitForTimeout(1500);
  await browser.stopTracing();
  const ev = JSON.parse(readFileSync("/tmp/prof/t2.json", "utf8")).traceEvents as any[];
  const lay = ev.filter((e) => e.name === "Layout").map((e) => (e.dur / 1000).toFixed(0));
  console.log(body, "layouts ms:", lay.join(","));
  await page.close();
}
await browser.close();
