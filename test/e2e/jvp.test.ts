/**
 * End-to-end for the JVP page (run `npm run build` first), once per TF.js backend (`?backend=`): the first view
 * shows "computing…" and then all figures without blocking the main thread, and the numbers each figure
 * publishes (script[data-figure]) match what the same jobs compute here in Node on TF.js's CPU backend, and so
 * do the curves of the three networks it trains live (20 steps each). Then a
 * control restarts its figure's job, and the trained-profiles run reports progress, pauses and stops.
 * SwiftShader (WebGL, WebGPU) is slow; each job is small.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { loadavg } from "node:os";
import { longTaskLimitMs } from "../../scripts/browser/page-check.ts";
import { ARTIFACTS, SLOW_E2E, useBuiltSite } from "./site-fixture.ts";
import type { Page } from "playwright-core";
import * as tf from "@tensorflow/tfjs";
import { useFastCpuKernels } from "../../src/components/runtime/cpu-kernels.ts";
import {
  finiteDifferenceJob, halfPrecisionJob, profilesJob, trainedProfilesJob,
  type TrainedProfileParams, type TrainedProfileRow, type FiniteDifferenceParams, type FiniteDifferenceRow, type HalfPrecisionParams, type JvpJobResult, type ProfileParams, type ProfileRow,
} from "../../src/components/jobs/jvp-jobs.ts";
import type { HalfPrecisionRow } from "../../src/components/jobs/jvp-jobs.ts";

const HALF_MAX = 65504;

// The reference numbers: the page's own jobs, in this process, on TF.js's CPU backend with the kernels the
// site's CPU fallback uses.
useFastCpuKernels();
await tf.setBackend("cpu");

// The shared fixture serves dist/ and launches Chromium, which has WebGPU (SwiftShader) and WebGL.
const site = useBuiltSite();

interface Published<P, R> {
  params: P;
  backend: string;
  seconds: number;
  rows: R[];
}

/** Numbers as the page published them: non-finite values travel as strings. */
const revive = (_key: string, value: unknown) => (value === "Infinity" ? Infinity : value === "-Infinity" ? -Infinity : value === "NaN" ? NaN : value);

async function published<P, R>(page: Page, figure: string, timeout = 240_000): Promise<Published<P, R>> {
  const script = page.locator(`script[data-figure="${figure}"]`);
  await script.waitFor({ state: "attached", timeout });
  return JSON.parse((await script.textContent())!, revive);
}

async function runJob<R>(job: AsyncGenerator<unknown, JvpJobResult<R>>): Promise<R[]> {
  for (;;) {
    const { value, done } = await job.next();
    if (done) return value.rows;
  }
}

/**
 * Node's reference for one of the page's jobs, computed once per distinct parameters: every backend's page asks
 * for the same, and recomputing them for each was a good part of these tests' time.
 */
const references = new Map<string, Promise<unknown>>();
function referenceFor<R>(job: string, params: unknown, compute: () => Promise<R>): Promise<R> {
  const key = `${job} ${JSON.stringify(params)}`;
  if (!references.has(key)) references.set(key, compute());
  return references.get(key) as Promise<R>;
}

/** The trained-profiles job of the page's "Train the three networks", run here to its end. */
async function trainedRows(params: TrainedProfileParams): Promise<TrainedProfileRow[]> {
  const job = trainedProfilesJob(params);
  for (;;) {
    const { value, done } = await job.next();
    if (done) return value;
  }
}

const TRAINED_GPU_TOLERANCE = 0.05;
/**
 * The network whose time input is scaled by 1000 embeds sin/cos of arguments near 1000·t ≈ 300 rad. WebGL's sin
 * and cos lose accuracy with the argument's size (SwiftShader's GLSL reduces it in float32, ~3e-5 per unit at
 * 300), WebGPU's and the CPU's do not; the ×1000 tangent magnifies it. Measured on SwiftShader's WebGL: trained
 * profiles from 0.969 to 1.079 times the CPU's, the largest deviation (1.06 at t = 0.30) on this network.
 */
const TRAINED_WEBGL_SCALED_TOLERANCE = 0.12;

const relative = (a: number, b: number) => Math.abs(a - b) / Math.max(Math.abs(b), 1e-30);

/** Open /jvp with a long-task observer and a clock for the first figure, installed before any page script. */
async function openJvp(query: string, width = 1280): Promise<{ page: Page; errors: string[]; opened: number }> {
  const page = await site.browser.newPage({ viewport: { width, height: 900 } });
  const errors: string[] = [];
  page.on("console", (message) => message.type() === "error" && errors.push(`console: ${message.text()}`));
  page.on("pageerror", (error) => errors.push(`pageerror: ${error.message}`));
  await page.addInitScript(() => {
    const w = window as unknown as { longTasks: { start: number; duration: number }[]; firstFigure: number | null };
    w.longTasks = [];
    w.firstFigure = null;
    new PerformanceObserver((list) => {
      for (const entry of list.getEntries()) w.longTasks.push({ start: entry.startTime, duration: entry.duration });
    }).observe({ type: "longtask", buffered: true });
    const watch = new MutationObserver(() => {
      // The first figure is the exact-path figure (float64 on the page, no worker).
      if (w.firstFigure === null && document.querySelector('[data-card="paths"] svg')) {
        w.firstFigure = performance.now();
        watch.disconnect();
      }
    });
    document.addEventListener("DOMContentLoaded", () => watch.observe(document.body, { childList: true, subtree: true }));
  });
  const opened = Date.now();
  await page.goto(`${site.url}/jvp${query}`, { waitUntil: "load" });
  return { page, errors, opened };
}

for (const backend of ["cpu", "wasm", "webgl", "webgpu"] as const) {
  test(`JVP page on ${backend}: computing… then every figure, numbers as on the CPU in Node, no long main-thread task`, async () => {
    const { page, errors, opened } = await openJvp(`?backend=${backend}`);
    // The first view never waits: each network figure says it is computing while its worker runs.
    await page.locator(".computing", { hasText: "computing…" }).first().waitFor({ timeout: 10_000 });
    const profiles = await published<ProfileParams, ProfileRow>(page, "profiles");
    const half = await published<HalfPrecisionParams, HalfPrecisionRow>(page, "half-precision");
    const fd = await published<FiniteDifferenceParams, FiniteDifferenceRow>(page, "finite-difference");
    await page.locator(".card svg").nth(4).waitFor();
    const firstView = (Date.now() - opened) / 1000;
    const timing = await page.evaluate(() => {
      const w = window as unknown as { longTasks: { start: number; duration: number }[]; firstFigure: number };
      return { longTasks: w.longTasks, firstFigure: w.firstFigure };
    });
    const afterFirst = timing.longTasks.filter((t) => t.start >= timing.firstFigure);
    const longest = Math.max(0, ...afterFirst.map((t) => t.duration));
    const limit = longTaskLimitMs();
    console.log(`${backend}: first view ${firstView.toFixed(1)} s (jobs ${profiles.seconds.toFixed(1)} / ${half.seconds.toFixed(1)} / ${fd.seconds.toFixed(1)} s); first figure at ${(timing.firstFigure / 1000).toFixed(1)} s; longest main-thread task after it ${longest.toFixed(0)} ms (limit ${limit.toFixed(0)} ms at load ${loadavg()[0].toFixed(1)})`);
    assert.ok(longest <= limit, `a ${longest} ms task after the first figure: ${JSON.stringify(afterFirst)}`);
    // No TF.js on the page itself: only the worker bundle loads it.
    // (By path: the worker's address carries the WebAssembly binaries' URLs in its query.)
    const scripts = await page.evaluate(() => performance.getEntriesByType("resource").map((r) => new URL(r.name).pathname).filter((path) => /tensorflow|tfjs/.test(path)));
    assert.deepEqual(scripts, [], "the page loads TF.js");

    // Every figure was computed by the backend the notice names: the one asked for, unless the worker's
    // backend check rejected it (then the notice says why, and the figures come from the fallback).
    const notice = page.locator(".notice[data-backend]");
    await notice.waitFor({ timeout: 60_000 });
    const active = await notice.getAttribute("data-backend");
    assert.equal(active, backend, `the page runs on the backend asked for: ${await notice.innerText()}`);
    assert.deepEqual([profiles.backend, half.backend, fd.backend], [active, active, active]);

    // sin t·∂F/∂t: float32 kernels on the GPU sum in another order and approximate sin/exp differently;
    // measured differences are ~1e-6 relative (WebGL, WebGPU), 0 on the CPU. 1e-3 leaves room for other GPUs.
    const reference = await referenceFor("profiles", profiles.params, () => runJob(profilesJob(profiles.params)));
    assert.equal(profiles.rows.length, reference.length);
    assert.equal(profiles.rows.length, profiles.params.times.length * 3);
    profiles.rows.forEach((row, i) => {
      assert.equal(row.cNoise, reference[i].cNoise);
      assert.ok(relative(row.value, reference[i].value) <= 1e-3, `profile ${row.cNoise} t=${row.t}: ${row.value} vs CPU ${reference[i].value}`);
    });

    // fp16: the overflow counts match exactly, except where the fp16 value sits within a few percent of 65504
    // (there a float32 difference of one part in 10⁶ can round across the limit).
    const halfReference = await referenceFor("half", half.params, () => runJob(halfPrecisionJob(half.params)));
    assert.equal(half.rows.length, halfReference.length);
    const overflows = (rows: HalfPrecisionRow[], form: string) => rows.filter((r) => r.form === form && r.finiteFraction < 1).length;
    for (const [i, row] of half.rows.entries()) {
      const cpu = halfReference[i];
      if ((row.finiteFraction < 1) !== (cpu.finiteFraction < 1)) {
        const finite = Number.isFinite(row.maxJvp) ? row.maxJvp : cpu.maxJvp;
        assert.ok(finite >= 0.95 * HALF_MAX, `${row.form} t=${row.t}: overflow in ${backend} ${row.finiteFraction < 1}, on the CPU ${cpu.finiteFraction < 1}, largest finite |JVP| ${finite}`);
      } else if (Number.isFinite(row.maxJvp) && Number.isFinite(cpu.maxJvp)) {
        // fp16 keeps 11 significant bits: one rounding step apart is 2⁻¹⁰ ≈ 1e-3; a few steps can accumulate.
        assert.ok(relative(row.maxJvp, cpu.maxJvp) <= 1e-2, `${row.form} t=${row.t}: |JVP| ${row.maxJvp} vs CPU ${cpu.maxJvp}`);
      }
    }
    const counts = `Here ${overflows(half.rows, "naive")} of ${half.params.times.length} times overflow in the naive form and ${overflows(half.rows, "rearranged")} in the rearranged form.`;
    assert.equal(await page.locator("[data-overflow-counts]").innerText(), counts);
    console.log(`${backend}: ${counts} (CPU in Node: ${overflows(halfReference, "naive")} and ${overflows(halfReference, "rearranged")})`);

    // Finite differences. The CPU backend runs Node's kernels: equal to round-off. On a GPU backend, the truncation
    // side (ε ≥ 1e-2, error ∝ ε²) is a property of the network and matches within 5%; below, the error is round-off,
    // δ·|F|/ε, and GPUs evaluate sin/exp to ~2⁻¹¹ (WGSL's required accuracy) rather than float32's 2⁻²⁴, so only
    // the order of magnitude is compared (measured GPU/CPU ratios up to 3.2 on SwiftShader; a factor 10 is allowed).
    const fdReference = await referenceFor("finite differences", fd.params, () => runJob(finiteDifferenceJob(fd.params)));
    console.log(`${backend}: finite-difference error / CPU's: ${fd.rows.map((row, i) => `${row.eps.toExponential(0)} ${(row.error / fdReference[i].error).toFixed(2)}`).join(", ")}`);
    for (const [i, row] of fd.rows.entries()) {
      const cpu = fdReference[i].error;
      if (backend === "cpu") assert.ok(relative(row.error, cpu) <= 1e-6, `ε=${row.eps}: ${row.error} vs CPU ${cpu}`);
      else if (row.eps >= 1e-2) assert.ok(relative(row.error, cpu) <= 5e-2, `ε=${row.eps}: ${row.error} vs CPU ${cpu}`);
      else assert.ok(row.error <= 10 * cpu && row.error >= cpu / 10, `ε=${row.eps}: ${row.error} vs CPU ${cpu}`);
    }
    assert.match(await page.locator(".plot-key").last().innerText(), /best: ε = \de-\d, relative error \d\.\de-\d/);

    // The live training run: the three networks, 20 Adam steps each, trained in the page's worker (on WebGPU
    // four minutes on SwiftShader: with the slow tests, SLOW_E2E).
    if (backend === "webgpu" && !SLOW_E2E) return void (await page.close());
    const steps = page.getByRole("spinbutton", { name: /Adam steps per network/ });
    await steps.fill("20");
    await steps.dispatchEvent("input");
    const trainingStarted = Date.now();
    await page.getByRole("button", { name: "Train the three networks" }).click();
    const trained = await published<TrainedProfileParams, TrainedProfileRow>(page, "trained-profiles", 400_000);
    const trainingSeconds = (Date.now() - trainingStarted) / 1000;
    const trainedReference = await referenceFor("trained", trained.params, () => trainedRows(trained.params));
    const trainedRatios = trained.rows.map((row, i) => row.value / trainedReference[i].value);
    console.log(`${backend}: trained 3 × 20 steps in ${trainingSeconds.toFixed(0)} s; trained profile / CPU's: ${Math.min(...trainedRatios).toFixed(4)} … ${Math.max(...trainedRatios).toFixed(4)}`);
    assert.deepEqual(trained.rows.map((r) => [r.cNoise, r.t]), trainedReference.map((r) => [r.cNoise, r.t]));
    // The CPU backend runs Node's kernels: equal to round-off; WASM's float32 kernels too (measured ratio 1.0000). On a GPU backend, 20 Adam steps from the same
    // seed and batches follow the CPU's run with float32 differences in summation order and in sin/cos/exp
    // (~2⁻¹¹ absolute on GPUs); the RMS of sin t·∂F/∂t then differs by at most TRAINED_GPU_TOLERANCE (measured on SwiftShader: see the log line).
    for (const [i, row] of trained.rows.entries()) {
      const tolerance = backend === "cpu" || backend === "wasm" ? 1e-5 : backend === "webgl" && row.cNoise === "scaled1000" ? TRAINED_WEBGL_SCALED_TOLERANCE : TRAINED_GPU_TOLERANCE;
      assert.ok(relative(row.value, trainedReference[i].value) <= tolerance, `${row.cNoise} t=${row.t}: ${row.value} vs CPU ${trainedReference[i].value}`);
    }

    await page.screenshot({ path: `${ARTIFACTS}/jvp-${backend}.png`, fullPage: true });
    assert.deepEqual(await page.locator(".observablehq--error").allInnerTexts(), []);
    assert.deepEqual(errors, []);
    await page.close();
  });
}

test("JVP page: a control restarts its figure's job; the trained run reports progress, pauses and stops", async () => {
  // The CPU backend in the worker: the quickest in this GPU-less test machine.
  const { page, errors } = await openJvp("?backend=cpu", 390);
  const before = await published<FiniteDifferenceParams, FiniteDifferenceRow>(page, "finite-difference");
  const slider = page.getByRole("spinbutton", { name: /^t$/ });
  await slider.fill("1.2");
  await slider.dispatchEvent("input");
  await page.locator('[data-figure-name="finite-difference"][data-figure-state="computing"]').waitFor({ timeout: 5_000 });
  const changed = await published<FiniteDifferenceParams, FiniteDifferenceRow>(page, "finite-difference");
  assert.equal(before.params.t, 0.8);
  assert.equal(changed.params.t, 1.2);
  const reference = await runJob(finiteDifferenceJob(changed.params));
  assert.ok(relative(changed.rows.at(-1)!.error, reference.at(-1)!.error) <= 1e-6);

  const steps = page.getByRole("spinbutton", { name: /Adam steps per network/ });
  await steps.fill("40");
  await steps.dispatchEvent("input");
  await page.getByRole("button", { name: "Train the three networks" }).click();
  const status = page.locator('[data-run="trained"]');
  await status.filter({ hasText: /Training c = t \(sCM\): step 20\/40, loss \d/ }).waitFor({ timeout: 60_000 });
  await page.getByRole("button", { name: "Pause" }).click();
  await page.getByRole("button", { name: "Resume" }).waitFor();
  // Each worker stops after the step it has in flight (serve-job.ts), and that step may still report a milestone.
  await page.waitForTimeout(1000);
  const paused = await status.innerText();
  await page.waitForTimeout(1500);
  assert.equal(await status.innerText(), paused, "no progress while paused");
  await page.getByRole("button", { name: "Resume" }).click();
  await page.getByRole("button", { name: "Stop" }).click();
  await status.filter({ hasText: /Stopped after \d+ s: [0-2] of 3 networks trained|Trained in \d+ s/ }).waitFor({ timeout: 30_000 });
  assert.ok(await page.getByRole("button", { name: "Stop" }).isDisabled());
  await page.screenshot({ path: `${ARTIFACTS}/jvp-390-trained.png`, fullPage: true });
  const scrollWidth = await page.evaluate(() => document.documentElement.scrollWidth);
  assert.ok(scrollWidth <= 390, `no sideways scroll at 390 px (scroll width ${scrollWidth})`);
  assert.deepEqual(await page.locator(".observablehq--error").allInnerTexts(), []);
  assert.deepEqual(errors, []);
  await page.close();
});
