import { serveDirectory } from "./browser/static-server.ts";
import { launchChromium } from "./browser/chromium.ts";
const server = await serveDirectory("dist");
const browser = await launchChromium();
for (const path of process.argv.slice(2)) {
  for (const width of [1280, 390]) {
    const page = await browser.newPage({ viewport: { width, height: 900 } });
    await page.goto(server.url + "/" + path, { waitUntil: "networkidle" });
    await page.locator(".notice[data-backend]").first().waitFor({ timeout: 90_000 }).catch(() => {});
    await page.waitForFunction(() => !document.body.innerText.includes("computing…"), null, { timeout: 90_000 }).catch(() => {});
    await page.waitForTimeout(1500);
    const sw = await page.evaluate(() => document.documentElement.scrollWidth);
    await page.screenshot({ path: `/tmp/shots/${path || "index"}-${width}.png`, fullPage: true });
    console.log(path, width, "scrollWidth", sw);
    await page.close();
  }
}
await browser.close(); await server.close();
