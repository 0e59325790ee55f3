/**
 * Image training on TF.js's real WebGPU kernels (Dawn on a software Vulkan driver, see setup.ts) takes the
 * same steps as on the CPU backend: a tiny ImageRun (8×8 RGB, 8/16 channels, batch 2) trains the teacher, sCT
 * and sCD for a few steps from the same seeds on both backends, and the losses, gradient norms and updated
 * weights agree; numTensors stays flat on WebGPU; no WebGPU validation error is raised on the way (an invalid
 * pipeline makes Dawn drop the whole command buffer it was recorded in, silently skipping other kernels).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import "@tensorflow/tfjs-backend-webgpu";
import { ImageDataset } from "../../src/components/image/image-dataset.ts";
import { ImageRun } from "../../src/components/image/image-run.ts";
import { defaultImageRunConfig, type ImageRunConfig } from "../../src/components/image/image-run-config.ts";
import { SmallUNet } from "../../src/components/nn/unet.ts";
import { createRng } from "../../src/components/math/rng.ts";

type Weights = Record<string, { shape: number[]; data: Float32Array }>;
type Objective = "teacher" | "sct" | "scd";

const STEPS = 2;

function dataset(): ImageDataset {
  const shape = { height: 8, width: 8, channels: 3 };
  const data = new ImageDataset([0, 1], shape, 8);
  const rng = createRng(5);
  for (const label of [0, 1]) data.append(label, Uint8Array.from({ length: 8 * 8 * 8 * 3 }, () => Math.floor(label * 120 + 100 * rng.uniform())));
  return data;
}

function config(objective: Objective): ImageRunConfig {
  const base = defaultImageRunConfig(objective, "tiny");
  // Dropout stays on (0.13 teacher, 0.2 sCT): its masks are hashed from the step's seed on each device, bit for
  // bit the same (nn/kernels/dropout-mask.ts), so both backends drop the same units. warmupIterations 2: the tangent's warm-up factor r changes within the test.
  return { ...base, batch: 2, network: { ...base.network, resolution: 8, baseChannels: 8, timeEmbedding: { kind: "positional", dim: 8 } }, scm: { ...base.scm, warmupIterations: 2 } };
}

interface Trace {
  losses: number[];
  gradientNorms: number[];
  tangentNorms: (number | null)[];
  before: Weights;
  after: Weights;
  tensorsAfterFirst: number;
  tensorsAtEnd: number;
}

/**
 * WebGPU errors nobody captured (validation, out of memory): a listener on the device for the whole file.
 * Dawn delivers them asynchronously, so read them after a settle.
 */
const deviceErrors: string[] = [];
let listening = false;
function listenForDeviceErrors(): void {
  if (listening) return;
  const device = (tf.backend() as unknown as { device: { addEventListener(type: string, l: (e: { error: { message: string } }) => void): void } }).device;
  device.addEventListener("uncapturederror", (event) => deviceErrors.push(event.error.message.split("\n").slice(0, 4).join(" ").slice(0, 400)));
  listening = true;
}
const settle = () => new Promise((resolve) => setTimeout(resolve, 200));

/** STEPS steps of `objective` on `backend`, starting (sCT, sCD) from the teacher weights given. */
async function train(backend: "cpu" | "webgpu", objective: Objective, teacherWeights: Weights | null): Promise<Trace> {
  assert.ok(await tf.setBackend(backend), `backend ${backend} is available`);
  let teacher: SmallUNet | undefined;
  if (teacherWeights) {
    teacher = new SmallUNet({ ...config("teacher").network, seed: config("teacher").seed });
    teacher.params.load(teacherWeights);
  }
  const run = new ImageRun(dataset(), config(objective), teacher);
  const trace: Trace = { losses: [], gradientNorms: [], tangentNorms: [], before: await run.net.params.save(), after: {}, tensorsAfterFirst: 0, tensorsAtEnd: 0 };
  for (let i = 0; i < STEPS; i++) {
    const report = await run.step();
    trace.losses.push(report.loss);
    trace.gradientNorms.push(report.gradientNorm);
    trace.tangentNorms.push(report.meanTangentNorm);
    if (i === 0) trace.tensorsAfterFirst = tf.memory().numTensors;
  }
  trace.tensorsAtEnd = tf.memory().numTensors;
  trace.after = await run.net.params.save();
  run.dispose();
  teacher?.dispose();
  return trace;
}

/** ‖Δθ_gpu − Δθ_cpu‖ / ‖Δθ_cpu‖ over every parameter (Δθ = after − before; both runs start from the same weights). */
function updateError(cpu: Trace, gpu: Trace): { relative: number; norm: number } {
  let diff = 0, norm = 0;
  for (const name of Object.keys(cpu.after)) {
    const [c0, c1, g1] = [cpu.before[name].data, cpu.after[name].data, gpu.after[name].data];
    assert.deepEqual(gpu.before[name].data, c0, `${name} starts equal`);
    for (let i = 0; i < c1.length; i++) {
      diff += (g1[i] - c1[i]) ** 2;
      norm += (c1[i] - c0[i]) ** 2;
    }
  }
  return { relative: Math.sqrt(diff / norm), norm: Math.sqrt(norm) };
}

const relative = (a: number, b: number) => Math.abs(a - b) / Math.max(Math.abs(b), 1e-12);

/*
 * Tolerances. Step 1 starts both backends from identical weights, batches, times and dropout masks, so only
 * kernel rounding differs: float32 sums in another order, and WGSL's sin/cos (the time embedding), which are
 * only promised to 2^-11 absolute (unet-webgpu.test.ts measured 1.2e-4 of the output scale). From step 2 on,
 * Adam amplifies: its first update is lr·g/|g| per weight, so a weight whose gradient is ~0 can move by ±lr
 * on one backend and ∓lr on the other. Measured here (SwiftShader): losses and gradient norms within 3.3e-4
 * relative, weight updates within 4.4e-4 (teacher, lr 1e-3) and 5e-5 (sCT, sCD) of their size. The bounds below
 * sit 5–20× above that and far below a broken kernel (a skipped kernel gives errors of order 1 or more).
 */
const LOSS_STEP_1 = 2e-3;
const LOSS_LATER = 5e-3;
const UPDATE = 1e-2;

// The teacher the consistency runs start from: two CPU steps, so it is not the initialisation.
await tf.setBackend("cpu");
const teacherRun = new ImageRun(dataset(), config("teacher"));
for (let i = 0; i < 2; i++) await teacherRun.step();
const teacherWeights: Weights = await teacherRun.ema.params.save();
teacherRun.dispose();

/*
 * What this catches: measured-step.ts once summed the squared gradients with one tf.addN over every parameter
 * (85 tensors here). TF.js 4.22's WebGPU AddN binds every input as a storage buffer and WebGPU allows 8 per
 * shader stage (Dawn on SwiftShader reports exactly that limit), so the pipeline was invalid and Dawn dropped
 * the whole command buffer it was recorded in: the gradient norm read 0, part of the optimiser's update was
 * skipped, the teacher's loss reached ~1e4 by step 3 and training stopped with a NaN — all on WebGPU only.
 */
for (const objective of ["teacher", "sct", "scd"] as const) {
  test(`${objective}: ${STEPS} steps on WebGPU match the CPU backend (losses, gradient norms, weights); numTensors flat; no WebGPU errors`, async () => {
    const start = objective === "teacher" ? null : teacherWeights;
    const cpu = await train("cpu", objective, start);
    await tf.setBackend("webgpu");
    listenForDeviceErrors();
    let gpu: Trace;
    try {
      gpu = await train("webgpu", objective, start);
    } finally {
      await settle();
      const errors = [...new Set(deviceErrors.splice(0))];
      await tf.setBackend("cpu");
      assert.equal(errors.length, 0, `${objective}: WebGPU reported ${errors.length} error(s) (an invalid pipeline drops its whole command buffer): ${errors.slice(0, 2).join(" | ")}`);
    }
    const e = updateError(cpu, gpu);
    const summary = `${objective}: losses cpu ${cpu.losses.map((l) => l.toPrecision(6))} gpu ${gpu.losses.map((l) => l.toPrecision(6))}; ` +
      `‖∇L‖ cpu ${cpu.gradientNorms.map((l) => l.toPrecision(4))} gpu ${gpu.gradientNorms.map((l) => l.toPrecision(4))}; ` +
      `weight update differs by ${e.relative.toExponential(2)} of its size ${e.norm.toExponential(2)}`;
    console.log(summary);
    cpu.losses.forEach((l, i) => assert.ok(relative(gpu.losses[i], l) <= (i === 0 ? LOSS_STEP_1 : LOSS_LATER), `loss of step ${i + 1}: ${summary}`));
    cpu.gradientNorms.forEach((g, i) => assert.ok(relative(gpu.gradientNorms[i], g) <= (i === 0 ? LOSS_STEP_1 : LOSS_LATER), `gradient norm of step ${i + 1}: ${summary}`));
    cpu.tangentNorms.forEach((g, i) => g === null || assert.ok(relative(gpu.tangentNorms[i]!, g) <= (i === 0 ? LOSS_STEP_1 : LOSS_LATER), `tangent norm of step ${i + 1}: ${summary}`));
    assert.ok(e.relative <= UPDATE, `weight update: ${summary}`);
    assert.equal(gpu.tensorsAtEnd, gpu.tensorsAfterFirst, `${objective}: numTensors grew on WebGPU between step 1 and step ${STEPS}`);
  });
}
