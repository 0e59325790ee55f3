/**
 * Screenshots of built pages, to look at what ships: each page, full length, at each width, once its cells have
 * settled (backend notice shown, nothing "computing…").
 *
 *   node --import tsx scripts/browser/screenshot.ts [--out /tmp/shots] [--widths 1280,390] [--query backend=webgl] / /jvp …
 *
 * Prints each file with the page's scroll width: a width larger than the viewport means the page scrolls sideways.
 */
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { launchChromium } from "./chromium.ts";
import { openPage } from "./page-check.ts";
import { serveDirectory } from "./static-server.ts";
import { exitWithError, parseCommandLineAndArguments } from "../options.ts";

const { options: args, positionals } = parseCommandLineAndArguments("screenshot", { out: "value", widths: "value", query: "value" });
const pages = positionals.length > 0 ? positionals : ["/"];
const out = args.get("out") ?? "/tmp/shots";
const widths = (args.get("widths") ?? "1280,390").split(",").map(Number);
if (!widths.every((w) => Number.isInteger(w) && w > 0)) exitWithError("screenshot", `--widths takes pixel widths separated by commas (got "${args.get("widths")}")`);
const query = args.has("query") ? `?${args.get("query")}` : "";

await mkdir(out, { recursive: true });
const server = await serveDirectory("dist");
const browser = await launchChromium();
try {
  for (const path of pages) {
    for (const width of widths) {
      const { page, errors } = await openPage(browser, `${server.url}${path}${query}`, { width, quietMs: 1500 });
      // Framework marks a cell still computing with an <observablehq-loading> element; wait (bounded) until none is left.
      await page.waitForFunction(() => document.querySelector("observablehq-loading") === null && !document.body.innerText.includes("computing…"), null, { timeout: 90_000 }).catch(() => {});
      const file = join(out, `${path.replace(/^\//, "") || "index"}-${width}.png`);
      await page.screenshot({ path: file, fullPage: true });
      const scrollWidth = await page.evaluate(() => document.documentElement.scrollWidth);
      console.log(`${file}: scroll width ${scrollWidth}${errors.length > 0 ? `; errors: ${errors.join(" | ")}` : ""}`);
      await page.close();
    }
  }
} finally {
  await browser.close();
  await server.close();
}
