// temp: attribute long main-thread stretches to functions (not committed)
import { serveDirectory } from "./browser/static-server.ts";
import { launchChromium } from "./browser/chromium.ts";
import { resolve } from "node:path";
const paths = process.argv.slice(2);
const server = await serveDirectory(resolve("dist"));
const browser = await launchChromium();
for (const path of paths) {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  const cdp = await page.context().newCDPSession(page);
  await cdp.send("Profiler.enable");
  await cdp.send("Profiler.setSamplingInterval", { interval: 500 });
  await cdp.send("Profiler.start");
  await page.goto(`${server.url}${path}`);
  await page.waitForTimeout(Number(process.env.WAIT ?? 12000));
  const { profile } = (await cdp.send("Profiler.stop")) as any;
  const byId = new Map<number, any>(profile.nodes.map((n: any) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const idle = (id: number) => ["(idle)", "(program)", "(garbage collector)"].includes(byId.get(id).callFrame.functionName) && byId.get(id).callFrame.functionName !== "(garbage collector)";
  let t = 0; let runStart = -1; let run: number[] = [];
  const runs: { start: number; dur: number; samples: number[] }[] = [];
  for (let i = 0; i < profile.samples.length; i++) {
    t += profile.timeDeltas[i] / 1000;
    const id = profile.samples[i];
    if (!idle(id)) { if (runStart < 0) { runStart = t; run = []; } run.push(id); }
    else if (runStart >= 0) { runs.push({ start: runStart, dur: t - runStart, samples: run }); runStart = -1; }
  }
  console.log(`== ${path}`);
  for (const r of runs.filter((r) => r.dur > 120)) {
    const self = new Map<string, number>(); const user = new Map<string, number>();
    for (const id of r.samples) {
      const f = byId.get(id).callFrame; const k = `${f.functionName || "(anon)"} ${f.url.split("/").pop()}:${f.lineNumber}`;
      self.set(k, (self.get(k) ?? 0) + 1);
      // innermost frame from our own code (_import or _file or page)
      let cur: number | undefined = id; const seen = new Set<string>();
      while (cur !== undefined) { const cf = byId.get(cur).callFrame; if (/_import\/(components|ui)|\.html|_observablehq\/[a-z]+\.[0-9a-f]+\.js$/.test(cf.url) && !/runtime|stdlib|client/.test(cf.url)) { const kk = `${cf.functionName || "(anon)"} ${cf.url.split("/").slice(-2).join("/")}:${cf.lineNumber}`; if (!seen.has(kk)) { user.set(kk, (user.get(kk) ?? 0) + 1); seen.add(kk);} } cur = parent.get(cur); }
    }
    const top = (m: Map<string, number>) => [...m].sort((a, b) => b[1] - a[1]).slice(0, 8).map(([k, v]) => `    ${v}  ${k}`).join("\n");
    console.log(`  run at ${r.start.toFixed(0)} ms, ${r.dur.toFixed(0)} ms, ${r.samples.length} samples\n  self:\n${top(self)}\n  our code on stack:\n${top(user)}`);
  }
  await page.close();
}
await browser.close(); await server.close();
