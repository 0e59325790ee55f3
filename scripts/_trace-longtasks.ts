// temp: long tasks from a Chromium trace (not committed)
import { serveDirectory } from "./browser/static-server.ts";
import { launchChromium } from "./browser/chromium.ts";
import { resolve } from "node:path";
import { readFileSync } from "node:fs";
const paths = process.argv.slice(2);
const server = await serveDirectory(resolve("dist"));
const browser = await launchChromium();
for (const path of paths) {
  const page = await browser.newPage({ viewport: { width: Number(process.env.W ?? 1280), height: 900 } });
  if (process.env.WARM) { await page.goto(`${server.url}${path}`); await page.waitForTimeout(5000); }
  await browser.startTracing(page, { path: "/tmp/prof/trace.json", categories: (process.env.CATS ?? "devtools.timeline,disabled-by-default-devtools.timeline,v8.execute,v8,blink.user_timing").split(",") });
  await page.goto(`${server.url}${path}`);
  await page.waitForTimeout(Number(process.env.WAIT ?? 12000));
  await browser.stopTracing();
  const events = JSON.parse(readFileSync("/tmp/prof/trace.json", "utf8")).traceEvents as any[];
  const mainTid = events.find((e) => e.name === "thread_name" && e.args?.name === "CrRendererMain" && events.some((x) => x.pid === e.pid && x.name === "RunTask" && x.dur > 50000))?.tid;
  const main = events.filter((e) => e.tid === mainTid && e.ph === "X");
  const tasks = main.filter((e) => e.name === "RunTask" && e.dur > Number(process.env.MIN ?? 100) * 1000);
  const t0 = Math.min(...main.map((e) => e.ts));
  console.log(`== ${path}: ${tasks.length} tasks`);
  for (const task of tasks) {
    console.log(`  task at ${((task.ts - t0) / 1000).toFixed(0)} ms: ${(task.dur / 1000).toFixed(0)} ms`);
    const kids = main.filter((e) => e !== task && e.ts >= task.ts && e.ts + e.dur <= task.ts + task.dur && e.dur > 8000);
    for (const k of kids.slice(0, 25)) {
      const d = k.args?.data ?? {}; const where = d.url ? `${d.functionName ?? ""} ${String(d.url).split("/").slice(-2).join("/")}:${d.lineNumber ?? ""}` : (k.args?.fileName ?? "");
      console.log(`    +${((k.ts - task.ts) / 1000).toFixed(0)} ${(k.dur / 1000).toFixed(0)} ms ${k.name} ${where}`);
    }
  }
  await page.close();
}
await browser.close(); await server.close();
