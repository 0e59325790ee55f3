/**
 * The measurement of `npm run bench:train`, the same code in every runtime (Node CPU, Node + Dawn WebGPU,
 * Chromium WebGPU and WebGL): two ImageRuns of the same UNet preset on the same synthetic 32×32 images, a
 * diffusion teacher and sCT, step in turn; each step is timed until its results (loss, gradient norm, the EMA
 * update) have left the device, and the median over interleaved repeats is reported. The TF.js backend must
 * be active before runTrainBench is called. No DOM, no Node: the caller prints.
 */
import * as tf from "@tensorflow/tfjs";
import { ImageDataset } from "../../../src/components/image/image-dataset.ts";
import { ImageRun } from "../../../src/components/image/image-run.ts";
import { defaultImageRunConfig, type UNetPresetName } from "../../../src/components/image/image-run-config.ts";
import { createRng } from "../../../src/components/math/rng.ts";
import { countKernels, describeKernelCount, type KernelCount } from "../../../src/components/runtime/kernel-count.ts";

export interface TrainBenchOptions {
  preset: UNetPresetName;
  batch: number;
  /** timed steps per objective (after the warm-up) */
  steps: number;
  /** untimed steps per objective first: shader compilation, buffer pools, the guard's first snapshot */
  warmup: number;
  /** image side: 32 (CIFAR-10); smaller only for quick checks */
  resolution: number;
}

export const DEFAULT_TRAIN_BENCH: TrainBenchOptions = { preset: "tiny", batch: 4, steps: 5, warmup: 2, resolution: 32 };

export interface TrainBenchResult {
  backend: string;
  options: TrainBenchOptions;
  parameters: number;
  /** every timed step, ms, in the order taken */
  diffusionMs: number[];
  sctMs: number[];
  /** medians */
  diffusionStepMs: number;
  sctStepMs: number;
  /** first (warm-up) step of each, ms: mostly shader compilation on GPU backends */
  firstDiffusionStepMs: number;
  firstSctStepMs: number;
  finalLoss: { diffusion: number; sct: number };
  /**
   * sCT steps in bursts of READ_EVERY, alternating: each step's metrics read back before the next step is queued
   * (ImageRun.step), or read once per burst (ImageRun.enqueueStep, as the page does when steps are fast): ms per
   * step of each burst. `queueMs`: how long the page's thread took to queue each step of a burst that was not read
   * back — on a GPU backend the JavaScript cost of a step (TF.js's engine, bind groups, uniforms, encoding), the floor
   * of a step's time however fast the GPU; on the CPU backends the whole step.
   */
  readBack: { every: number; eachStepMs: number[]; perBurstMs: number[]; queueMs: number[] };
  /** TF.js kernels one step dispatches (one more, untimed step of each, under tf.profile) */
  kernels: { diffusion: KernelCount; sct: KernelCount };
  /** tensors alive after the last step minus after the warm-up (0 when nothing leaks) */
  tensorGrowth: number;
  /** bytes TF.js holds on the GPU at the end (WebGPU/WebGL), if it reports them */
  gpuBytes: number | null;
  /**
   * WebGPU errors nobody captured (validation, out of memory) during the run. Any at all make the timings
   * meaningless: Dawn and Chrome drop the whole command buffer an invalid pipeline was recorded in, so other
   * kernels silently do not run.
   */
  deviceErrors: { count: number; first: string | null };
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

/** Synthetic uint8 images (smooth random colour fields plus noise): the step's cost does not depend on the pixels. */
function syntheticDataset(resolution: number, count: number): ImageDataset {
  const shape = { height: resolution, width: resolution, channels: 3 };
  const data = new ImageDataset([0], shape, count);
  const rng = createRng(11);
  const bytes = new Uint8Array(count * resolution * resolution * 3);
  for (let i = 0, o = 0; i < count; i++) {
    const base = [rng.uniform(), rng.uniform(), rng.uniform()].map((v) => 40 + 170 * v);
    for (let y = 0; y < resolution; y++) {
      for (let x = 0; x < resolution; x++) {
        for (let c = 0; c < 3; c++) bytes[o++] = Math.max(0, Math.min(255, Math.round(base[c] + 30 * Math.sin((x + 3 * c) / 5) * Math.cos(y / 7) + 20 * (rng.uniform() - 0.5))));
      }
    }
  }
  data.append(0, bytes);
  return data;
}

/** Steps per burst in the read-back comparison (TrainBenchResult.readBack). */
const READ_EVERY = 4;

export async function runTrainBench(options: TrainBenchOptions, log: (line: string) => void = () => {}): Promise<TrainBenchResult> {
  const { preset, batch, steps, warmup, resolution } = options;
  const data = syntheticDataset(resolution, 64);
  const configure = (objective: "teacher" | "sct") => {
    const base = defaultImageRunConfig(objective, preset);
    return { ...base, batch, network: { ...base.network, resolution } };
  };
  const deviceErrors = { count: 0, first: null as string | null };
  const stopListening = listenForDeviceErrors((message) => {
    deviceErrors.count++;
    deviceErrors.first ??= message;
  });
  const runs = { diffusion: new ImageRun(data, configure("teacher")), sct: new ImageRun(data, configure("sct")) };
  const finalLoss = { diffusion: NaN, sct: NaN };
  const timeStep = async (which: "diffusion" | "sct") => {
    const run = runs[which];
    const start = performance.now();
    const report = await run.step();
    // Wait for the whole step, EMA update included, so that no step's work spills into the next one's timing.
    await run.settled();
    finalLoss[which] = report.loss;
    return performance.now() - start;
  };

  try {
    const first = { diffusion: 0, sct: 0 };
    for (const which of ["diffusion", "sct"] as const) {
      for (let i = 0; i < warmup; i++) {
        const ms = await timeStep(which);
        if (i === 0) first[which] = ms;
        log(`warm-up ${which} ${i + 1}/${warmup}: ${ms.toFixed(0)} ms`);
      }
    }
    const tensorsAfterWarmup = tf.memory().numTensors;
    const timed = { diffusion: [] as number[], sct: [] as number[] };
    for (let r = 0; r < steps; r++) {
      // Alternate which objective goes first, so a drift of the machine's speed hits both alike.
      const order = r % 2 === 0 ? (["diffusion", "sct"] as const) : (["sct", "diffusion"] as const);
      for (const which of order) timed[which].push(await timeStep(which));
      log(`repeat ${r + 1}/${steps}: diffusion ${timed.diffusion.at(-1)!.toFixed(0)} ms, sCT ${timed.sct.at(-1)!.toFixed(0)} ms`);
    }
    // Reading metrics back each step or once per burst of READ_EVERY sCT steps, bursts alternating (the second
    // kind first on odd repeats); each burst timed to its end, EMA update included.
    const readBack = { every: READ_EVERY, eachStepMs: [] as number[], perBurstMs: [] as number[], queueMs: [] as number[] };
    const burst = async (queued: boolean) => {
      const start = performance.now();
      for (let i = 0; i < READ_EVERY; i++) {
        const queuedAt = performance.now();
        const reports = queued ? await runs.sct.enqueueStep(READ_EVERY) : [await runs.sct.step()];
        if (queued && reports.length === 0) readBack.queueMs.push(performance.now() - queuedAt);
        if (reports.length > 0) finalLoss.sct = reports[reports.length - 1].loss;
      }
      await runs.sct.settled();
      (queued ? readBack.perBurstMs : readBack.eachStepMs).push((performance.now() - start) / READ_EVERY);
    };
    for (let r = 0; r < steps; r++) {
      for (const queued of r % 2 === 0 ? [false, true] : [true, false]) await burst(queued);
      log(`read-back repeat ${r + 1}/${steps}: each step ${readBack.eachStepMs.at(-1)!.toFixed(0)} ms, once per ${READ_EVERY} steps ${readBack.perBurstMs.at(-1)!.toFixed(0)} ms per step`);
    }
    // Counted on an extra, untimed step of each: profiling records every kernel, which costs time.
    const kernels = { diffusion: await countKernels(() => timeStep("diffusion")), sct: await countKernels(() => timeStep("sct")) };
    await new Promise((resolve) => setTimeout(resolve, 100)); // device errors arrive asynchronously
    const memory = tf.memory() as tf.MemoryInfo & { numBytesInGPU?: number; numBytesInGPUAllocated?: number };
    return {
      backend: tf.getBackend(),
      options,
      parameters: runs.diffusion.parameterCount,
      diffusionMs: timed.diffusion,
      sctMs: timed.sct,
      diffusionStepMs: median(timed.diffusion),
      sctStepMs: median(timed.sct),
      firstDiffusionStepMs: first.diffusion,
      firstSctStepMs: first.sct,
      finalLoss,
      readBack,
      kernels,
      tensorGrowth: memory.numTensors - tensorsAfterWarmup,
      gpuBytes: memory.numBytesInGPUAllocated ?? memory.numBytesInGPU ?? null,
      deviceErrors,
    };
  } catch (error) {
    // A failed step (a NaN, a lost device) often has a WebGPU error behind it: name it.
    await new Promise((resolve) => setTimeout(resolve, 100));
    if (deviceErrors.count > 0) throw new Error(`${(error as Error).message}; before that WebGPU reported ${deviceErrors.count} error(s), the first: ${deviceErrors.first}`);
    throw error;
  } finally {
    stopListening();
    runs.diffusion.dispose();
    runs.sct.dispose();
  }
}

/** Call `report` with the first lines of every uncaptured WebGPU error until the returned function is called. */
function listenForDeviceErrors(report: (message: string) => void): () => void {
  if (tf.getBackend() !== "webgpu") return () => {};
  type ErrorEvent = { error: { message: string } };
  const device = (tf.backend() as unknown as { device?: { addEventListener?(type: string, l: (e: ErrorEvent) => void): void; removeEventListener?(type: string, l: (e: ErrorEvent) => void): void } }).device;
  const listener = (event: ErrorEvent) => report(event.error.message.split("\n").slice(0, 4).join(" ").slice(0, 300));
  device?.addEventListener?.("uncapturederror", listener);
  return () => device?.removeEventListener?.("uncapturederror", listener);
}

/** The `name: value` lines of one backend's result, every name prefixed (e.g. "node_cpu_"). */
export function resultLines(prefix: string, r: TrainBenchResult): [string, string][] {
  const perSecond = (ms: number) => ((1000 * r.options.batch) / ms).toFixed(2);
  return [
    [`${prefix}diffusion_step_ms`, r.diffusionStepMs.toFixed(1)],
    [`${prefix}diffusion_images_per_s`, perSecond(r.diffusionStepMs)],
    [`${prefix}sct_step_ms`, r.sctStepMs.toFixed(1)],
    [`${prefix}sct_images_per_s`, perSecond(r.sctStepMs)],
    [`${prefix}sct_step_over_diffusion_step_unet`, (r.sctStepMs / r.diffusionStepMs).toFixed(3)],
    // Each repeat's own ratio (its sCT and diffusion steps ran back to back): the spread shows the machine's noise.
    [`${prefix}sct_over_diffusion_per_repeat`, r.sctMs.map((ms, i) => (ms / r.diffusionMs[i]).toFixed(2)).join(", ")],
    [`${prefix}sct_step_ms_read_each_step`, median(r.readBack.eachStepMs).toFixed(1)],
    [`${prefix}sct_step_ms_read_every_${r.readBack.every}`, median(r.readBack.perBurstMs).toFixed(1)],
    [`${prefix}sct_read_every_${r.readBack.every}_over_each_step`, (median(r.readBack.perBurstMs) / median(r.readBack.eachStepMs)).toFixed(3)],
    [`${prefix}sct_queue_ms`, median(r.readBack.queueMs).toFixed(1)],
    [`${prefix}first_step_ms`, `${r.firstDiffusionStepMs.toFixed(0)} diffusion, ${r.firstSctStepMs.toFixed(0)} sct`],
    [`${prefix}kernels_per_diffusion_step`, String(r.kernels.diffusion.total)],
    [`${prefix}kernels_per_sct_step`, String(r.kernels.sct.total)],
    ...(r.kernels.sct.dispatches !== null
      ? ([
          [`${prefix}dispatches_per_diffusion_step`, String(r.kernels.diffusion.dispatches)],
          [`${prefix}dispatches_per_sct_step`, String(r.kernels.sct.dispatches)],
        ] as [string, string][])
      : []),
    [`# ${prefix}kernels_sct_by_name`, describeKernelCount(r.kernels.sct)],
    ...(r.deviceErrors.count > 0 ? [[`${prefix}webgpu_errors`, `${r.deviceErrors.count}: timings INVALID, the GPU skipped work (first: ${r.deviceErrors.first})`] as [string, string]] : []),
  ];
}

/** What the WebGPU adapter says it is (vendor, architecture, device, description), for the report's header. */
export async function describeWebGpuAdapter(): Promise<string> {
  const gpu = (globalThis as { navigator?: { gpu?: { requestAdapter(o?: object): Promise<{ info?: Record<string, string>; isFallbackAdapter?: boolean } | null> } } }).navigator?.gpu;
  if (!gpu) return "no navigator.gpu";
  const adapter = await gpu.requestAdapter({ powerPreference: "high-performance" });
  if (!adapter) return "no adapter";
  const info = adapter.info ?? {};
  const text = ["vendor", "architecture", "device", "description"].map((k) => info[k]).filter(Boolean).join(" / ");
  return `${text || "(no adapter info)"}${adapter.isFallbackAdapter ? " (fallback adapter)" : ""}`;
}

/** WebGL must render 32-bit floats (sCM's tangents are useless in 16-bit): the same check as backend.ts. */
export function webglProblem(): string | null {
  return tf.env().getBool("WEBGL_RENDER_FLOAT32_ENABLED") ? null : "WebGL here renders only 16-bit floats";
}
