/**
 * npm run bench:train [-- --backends node-cpu,node-webgpu,chromium-webgpu,chromium-webgl --preset tiny
 *                        --batch 2 --steps 3 --warmup 1 --resolution 32 --timeout 600]
 * npm run bench:train -- --package runs/bench-train-gpu     (the GPU package instead, see bench-train/package.ts)
 *
 * Image training throughput, one run, every backend this machine has: a diffusion (teacher) step and an sCT step
 * of the same UNet preset on 32×32×3 images (ImageRun.step(), the page's own step: batch sampling, upload, the
 * objective, Adam/RAdam, EMA, the NaN guard's read-back), timed until the step's results have left the device;
 * the two objectives alternate within each repeat, and the median is printed. Ratios measured side by side in one
 * backend are what travels between machines (these are CPU emulations of GPUs: absolute times say nothing about
 * a real GPU); `sct_step_over_diffusion_step_unet` is printed per backend and once for the fastest backend.
 *
 * Backends (each in its own process or page, so a crash or a hang costs only its own lines):
 * - node-cpu: TF.js's CPU backend in Node, from an esbuild bundle of TF.js's ESM build (the CommonJS build tsx
 *   resolves runs this backend ~3× slower, ../shared/docs/webgpu-testing.md);
 * - node-webgpu: the same bundle on Dawn (the `webgpu` package); VK_ICD_FILENAMES chooses the Vulkan driver,
 *   SwiftShader from Debian's chromium package by default, as in `npm run test:webgpu`;
 * - chromium-webgpu / chromium-webgl: Debian's Chromium (never a downloaded one) with --enable-unsafe-webgpu,
 *   the bench bundled into a page served from 127.0.0.1 (WebGPU needs a secure context).
 * A backend that cannot run prints `<backend>: unavailable (reason)`.
 */
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { bundleBrowser, bundleNode } from "./train/bundle.ts";
import { resultLines, type TrainBenchOptions, type TrainBenchResult } from "./train/kernel.ts";
import { BENCH_OPTIONS, benchOptionsFrom } from "./train/options.ts";
import { exitWithError, parseCommandLine } from "../options.ts";
import { writeGpuPackage } from "./train/package.ts";

const BACKENDS = ["node-cpu", "node-webgpu", "chromium-webgpu", "chromium-webgl"] as const;
type Backend = (typeof BACKENDS)[number];
/** Sized for this project's 2-core, GPU-less machine: the four backends in a few minutes. */
const DEFAULTS: TrainBenchOptions = { preset: "tiny", batch: 2, steps: 3, warmup: 1, resolution: 32 };
const SWIFTSHADER_ICD = "/usr/lib/chromium/vk_swiftshader_icd.json";

type Outcome = { ok: true; adapter: string; result: TrainBenchResult } | { ok: false; error: string };

function fail(message: string): never {
  return exitWithError("bench:train", message);
}

const args = parseCommandLine("bench:train", { ...BENCH_OPTIONS, backends: "value", timeout: "value", package: "value" });
let options: TrainBenchOptions;
try {
  options = benchOptionsFrom(args, DEFAULTS);
} catch (error) {
  fail((error as Error).message);
}
const progress = (line: string) => process.stderr.write(`  ${line}\n`);

if (args.has("package")) {
  const dir = args.get("package")!;
  const files = await writeGpuPackage(dir, progress).catch((error: Error) => fail(error.message));
  const total = files.reduce((a, f) => a + f.bytes, 0);
  for (const f of files) console.log(`${f.name}: ${(f.bytes / 2 ** 20).toFixed(1)} MiB`);
  console.log(`total: ${(total / 2 ** 20).toFixed(1)} MiB in ${resolve(dir)}`);
  console.log(`run there: sh ${join(dir, "run.sh")} --preset small --batch 64 --steps 20 --warmup 3`);
  process.exit(0);
}

const wanted = (args.get("backends") ?? BACKENDS.join(",")).split(",").map((b) => b.trim()) as Backend[];
for (const b of wanted) if (!BACKENDS.includes(b)) fail(`unknown backend "${b}" in --backends (known: ${BACKENDS.join(", ")})`);
const timeoutMs = 1000 * Number(args.get("timeout") ?? 600);
const sizeArgs = (o: TrainBenchOptions) => Object.entries(o).flatMap(([k, v]) => [`--${k}`, String(v)]);

const work = mkdtempSync(join(tmpdir(), "bench-train-"));
process.on("exit", () => rmSync(work, { recursive: true, force: true }));

/** One Node backend in a child process running the bundle; its --json line is the outcome. */
async function runNode(backend: "cpu" | "webgpu", bundle: string): Promise<Outcome> {
  const env: NodeJS.ProcessEnv = { ...process.env };
  if (backend === "webgpu") {
    const dawn = resolve("node_modules/webgpu/dist", `${process.platform}-${process.arch}`, "dawn.node");
    if (!existsSync(dawn)) return { ok: false, error: `${dawn} is missing (the webgpu package has no build for this platform, or npm install was not run)` };
    env.DAWN_NODE = dawn;
    env.VK_ICD_FILENAMES ??= existsSync(SWIFTSHADER_ICD) ? SWIFTSHADER_ICD : undefined;
    if (env.VK_ICD_FILENAMES === undefined) delete env.VK_ICD_FILENAMES;
  }
  return new Promise((done) => {
    const child = spawn(process.execPath, [bundle, "--backend", backend, "--json", ...sizeArgs(options)], { env, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk) => (stdout += chunk));
    child.stderr.on("data", (chunk) => (stderr += chunk));
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      const last = stdout.trim().split("\n").at(-1) ?? "";
      try {
        done(JSON.parse(last) as Outcome);
      } catch {
        const why = signal ? `killed by ${signal}${signal === "SIGKILL" ? ` after the ${timeoutMs / 1000} s timeout` : ""}` : `exit code ${code}`;
        const tail = stderr.trim().split("\n").filter((l) => l && !/^(validation:| - |error: XDG_RUNTIME_DIR)/.test(l)).at(-1);
        done({ ok: false, error: `${why}${tail ? `: ${tail.slice(0, 200)}` : ""}` });
      }
    });
  });
}

/** One browser backend in a fresh page of one Chromium. */
async function runChromium(backend: "webgpu" | "webgl", url: string, browser: import("playwright-core").Browser): Promise<Outcome> {
  const page = await browser.newPage();
  page.on("console", (m) => m.type() === "log" && progress(m.text()));
  const errors: string[] = [];
  page.on("pageerror", (e) => errors.push(e.message));
  try {
    const query = new URLSearchParams({ backend, ...Object.fromEntries(Object.entries(options).map(([k, v]) => [k, String(v)])) });
    await page.goto(`${url}/index.html?${query}`);
    const handle = await page.waitForFunction(() => (window as unknown as { __benchTrain?: unknown }).__benchTrain, null, { timeout: timeoutMs, polling: 1000 });
    return (await handle.jsonValue()) as Outcome;
  } catch (error) {
    return { ok: false, error: `${(error as Error).message.split("\n")[0]}${errors.length ? ` (page error: ${errors[0]})` : ""}` };
  } finally {
    await page.close().catch(() => {});
  }
}

const started = performance.now();
progress("bundling the bench (esbuild)");
const nodeBundle = join(work, "bench-train.mjs");
await bundleNode(nodeBundle);
const outcomes = new Map<Backend, Outcome>();
for (const backend of wanted.filter((b) => b.startsWith("node-"))) {
  progress(`${backend}…`);
  outcomes.set(backend, await runNode(backend === "node-cpu" ? "cpu" : "webgpu", nodeBundle));
}
const browserBackends = wanted.filter((b) => b.startsWith("chromium-"));
if (browserBackends.length > 0) {
  let unavailable: string | null = null;
  let browser: import("playwright-core").Browser | null = null;
  let server: { url: string; close: () => Promise<void> } | null = null;
  try {
    await bundleBrowser(join(work, "bench.js"));
    writeFileSync(join(work, "index.html"), `<!doctype html><meta charset="utf-8"><title>bench:train</title><script type="module" src="./bench.js"></script>\n`);
    const { serveDirectory } = await import("../browser/static-server.ts");
    const { launchChromium } = await import("../browser/chromium.ts");
    server = await serveDirectory(work);
    browser = await launchChromium(["--enable-unsafe-webgpu"]);
  } catch (error) {
    unavailable = (error as Error).message.split("\n")[0];
  }
  for (const backend of browserBackends) {
    progress(`${backend}…`);
    outcomes.set(backend, unavailable || !browser || !server ? { ok: false, error: unavailable ?? "no browser" } : await runChromium(backend === "chromium-webgpu" ? "webgpu" : "webgl", server.url, browser));
  }
  await browser?.close();
  await server?.close();
}

const { preset, batch, resolution, steps, warmup } = options;
const parameters = [...outcomes.values()].find((o) => o.ok)?.ok ? ([...outcomes.values()].find((o) => o.ok) as { result: TrainBenchResult }).result.parameters : null;
console.log(
  `# bench:train: preset ${preset}${parameters ? ` (${parameters} parameters)` : ""}, batch ${batch}×${resolution}×${resolution}×3, ` +
    `warm-up ${warmup} step(s), median of ${steps} interleaved steps per objective; ${cpus().length} cores; ${((performance.now() - started) / 1000).toFixed(0)} s`,
);
let fastest: { backend: Backend; result: TrainBenchResult } | null = null;
for (const backend of wanted) {
  const outcome = outcomes.get(backend)!;
  const prefix = `${backend.replace("-", "_")}_`;
  if (!outcome.ok) {
    console.log(`${backend.replace("-", "_")}: unavailable (${outcome.error})`);
    continue;
  }
  const r = outcome.result;
  if (outcome.adapter) console.log(`# ${backend}: ${outcome.adapter}`);
  for (const [name, value] of resultLines(prefix, r)) console.log(`${name}: ${value}`);
  if (r.tensorGrowth !== 0) console.log(`${prefix}tensor_leak_per_run: ${r.tensorGrowth}`);
  if (r.deviceErrors.count === 0 && (!fastest || r.diffusionStepMs + r.sctStepMs < fastest.result.diffusionStepMs + fastest.result.sctStepMs)) fastest = { backend, result: r };
}
if (fastest) console.log(`sct_step_over_diffusion_step_unet: ${(fastest.result.sctStepMs / fastest.result.diffusionStepMs).toFixed(3)} (${fastest.backend}, the fastest backend here)`);
else console.log("sct_step_over_diffusion_step_unet: unavailable (no backend ran cleanly)");
process.exit(0);
