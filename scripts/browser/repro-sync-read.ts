/**
 * Minimal reproduction: a synchronous read (dataSync) of a GPU-resident tensor on TF.js's WebGPU backend in
 * headless Chromium (SwiftShader adapter) returns zeros and loses the device, while `await data()` is right.
 *
 *   node --import tsx scripts/browser/repro-sync-read.ts                # launch flags of scripts/browser/chromium.ts
 *   node --import tsx scripts/browser/repro-sync-read.ts --disable-gpu  # the same plus extra Chromium flags
 *
 * Bundles @tensorflow/tfjs + @tensorflow/tfjs-backend-webgpu with esbuild into a temporary folder, serves it
 * over http://127.0.0.1 (navigator.gpu exists only in a secure context), computes ones(32×64)·ones(64×64)
 * (every entry 64) three times: read with `await data()`, read with `dataSync()`, then `await data()` again
 * after waiting for the device, and prints each result, Chromium's GPU-process log lines and whether
 * `device.lost` resolved. Why: TF.js's WebGPU `readSync` copies the buffer into a WebGPU canvas texture and
 * draws that canvas into a 2D canvas to read pixels back, which needs the shared-image interop that
 * Chromium's SwiftShader WebGPU does not have.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { build } from "esbuild";
import { serveDirectory } from "./static-server.ts";

// Chromium's stderr carries the GPU process's errors (shared image, device lost). Playwright passes it on only
// through its debug log "pw:browser", read from DEBUG when playwright-core loads, hence the dynamic imports:
// keep the GPU lines of that log, drop the rest.
process.env.DEBUG = "pw:browser";
const gpuLog: string[] = [];
const writeStderr = process.stderr.write.bind(process.stderr);
process.stderr.write = ((chunk: string | Uint8Array, ...rest: never[]) => {
  const text = String(chunk);
  if (!text.includes("pw:browser")) return writeStderr(chunk, ...rest);
  if (/:(ERROR|WARNING|FATAL):/.test(text) && /gpu|webgpu|dawn|shared_image/i.test(text)) gpuLog.push(text.replace(/^.*?:(ERROR|WARNING|FATAL):/, "$1 ").trim().slice(0, 300));
  return true;
}) as typeof process.stderr.write;
const { chromium } = await import("playwright-core");
const { CHROMIUM, chromiumArgs } = await import("./chromium.ts");

const extraArgs = process.argv.slice(2);
const work = mkdtempSync(join(tmpdir(), "repro-sync-read-"));

const pageSource = `
import * as tf from "@tensorflow/tfjs";
import "@tensorflow/tfjs-backend-webgpu";
const report = {};
const summary = (values) => {
  const counts = new Map();
  for (const v of values) counts.set(v, (counts.get(v) ?? 0) + 1);
  return [...counts].map(([v, n]) => n + "× " + v).join(", ");
};
try {
  report.setBackend = await tf.setBackend("webgpu");
  await tf.ready();
  report.backend = tf.getBackend();
  const backend = tf.backend();
  const info = backend.adapterInfo ?? {};
  report.adapter = [info.vendor, info.architecture].filter(Boolean).join(" / ");
  let lost = null;
  backend.device.lost.then((l) => { lost = (l.reason ?? "") + ": " + l.message; });
  const a = tf.ones([32, 64]);
  const b = tf.ones([64, 64]);
  const residency = (t) => (backend.tensorMap.get(t.dataId).resource ? "GPU buffer" : "CPU values");

  const first = tf.matMul(a, b);
  report.first = { residency: residency(first), read: "await data()", values: summary(await first.data()) };
  const second = tf.matMul(a, b);
  report.second = { residency: residency(second), read: "dataSync()" };
  try { report.second.values = summary(second.dataSync()); } catch (e) { report.second.error = String(e); }
  await new Promise((resolve) => setTimeout(resolve, 2000));
  const third = tf.matMul(a, b);
  report.third = { residency: residency(third), read: "await data() after 2 s" };
  try { report.third.values = summary(await third.data()); } catch (e) { report.third.error = String(e); }
  await new Promise((resolve) => setTimeout(resolve, 500));
  report.deviceLost = lost ?? "no (device.lost has not resolved)";
} catch (e) {
  report.error = String(e && e.stack || e);
}
window.report = report;
`;

const bundle = await build({
  stdin: { contents: pageSource, resolveDir: process.cwd(), loader: "js" },
  bundle: true,
  format: "esm",
  platform: "browser",
  mainFields: ["module", "browser", "main"],
  write: false,
  logLevel: "error",
});
writeFileSync(join(work, "bundle.js"), bundle.outputFiles[0].contents);
writeFileSync(join(work, "index.html"), `<!doctype html><meta charset="utf-8"><title>sync read repro</title><link rel="icon" href="data:,"><script type="module" src="./bundle.js"></script>\n`);

const server = await serveDirectory(work);
const args = [...chromiumArgs(), ...extraArgs];
const browser = await chromium.launch({
  executablePath: CHROMIUM,
  headless: true,
  args,
});
try {
  const page = await browser.newPage();
  const consoleLines: string[] = [];
  page.on("console", (m) => consoleLines.push(`${m.type()}: ${m.text().slice(0, 240)}`));
  page.on("pageerror", (e) => consoleLines.push(`pageerror: ${e.message}`));
  await page.goto(`${server.url}/`, { waitUntil: "commit" });
  await page.waitForFunction(() => (window as unknown as { report?: unknown }).report !== undefined, null, { timeout: 120_000 });
  const report = await page.evaluate(() => (window as unknown as { report: unknown }).report);
  console.log(`Chromium ${browser.version()}, flags: ${args.join(" ")}`);
  console.log(JSON.stringify(report, null, 2));
  console.log(`page console (${consoleLines.length}):`);
  for (const line of consoleLines) console.log(`  ${line}`);
  console.log(`GPU-process log lines (${gpuLog.length}):`);
  for (const line of gpuLog) console.log(`  ${line}`);
} finally {
  await browser.close();
  await server.close();
  rmSync(work, { recursive: true, force: true });
}
