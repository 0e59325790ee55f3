/**
 * Run after `observable build`: fail (exit 1) if any page of dist/ shows an error cell.
 * Framework exits 0 even when a cell fails, so this is what makes a broken page break the build.
 * Static check: error cells rendered at build time. Runtime check (when Debian's Chromium is installed):
 * load every page and look for error cells the browser produced.
 */
import { existsSync, readFileSync, readdirSync } from "node:fs";
import { resolve } from "node:path";
import config from "../observablehq.config.ts";
import { serveDirectory } from "./browser/static-server.ts";
import { CHROMIUM, launchChromium } from "./browser/chromium.ts";
import { openPage } from "./browser/page-check.ts";

const dist = resolve("dist");
const problems: string[] = [];
if (!existsSync(`${dist}/index.html`)) problems.push("dist/index.html is missing");
for (const file of existsSync(dist) ? readdirSync(dist).filter((f) => f.endsWith(".html")) : []) {
  if (readFileSync(`${dist}/${file}`, "utf8").includes("observablehq--error")) problems.push(`${file}: error cell in the built HTML`);
}

if (problems.length === 0 && existsSync(CHROMIUM)) {
  const server = await serveDirectory(dist);
  const browser = await launchChromium();
  try {
    for (const path of ["/", ...config.pages.map((p) => p.path)]) {
      const check = await openPage(browser, `${server.url}${path}`);
      for (const cell of await check.errorCells()) problems.push(`${path}: error cell: ${cell}`);
      await check.page.close();
    }
  } finally {
    await browser.close();
    await server.close();
  }
} else if (!existsSync(CHROMIUM)) {
  console.warn(`check-dist: ${CHROMIUM} not found, so only the static check ran (apt-get install -y chromium)`);
}

if (problems.length > 0) {
  console.error(`check-dist: ${problems.length} problem(s):\n- ${problems.join("\n- ")}`);
  process.exit(1);
}
console.log("check-dist: every page rendered without an error cell");
