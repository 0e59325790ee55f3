// Screenshot a region of a built page: node --import tsx scripts/screenshot.ts /trigflow out.png [y] [height] [width]
import { launchChromium } from "./browser/chromium.ts";
import { serveDirectory } from "./browser/static-server.ts";
const [path, out, y = "0", h = "900", w = "1280"] = process.argv.slice(2);
const server = await serveDirectory("dist");
const browser = await launchChromium();
const page = await browser.newPage({ viewport: { width: Number(w), height: 900 } });
page.on("console", (m) => console.log("console", m.type(), m.text()));
await page.goto(server.url + path, { waitUntil: "networkidle" });
await page.waitForTimeout(1500);
await page.screenshot({ path: out, clip: { x: 0, y: Number(y), width: Number(w), height: Number(h) }, fullPage: true });
await browser.close(); await server.close();
