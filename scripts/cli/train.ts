/**
 * npm run train -- --data <preset> --objective <teacher|sct|scd|discrete|ect> [options]
 * npm run train -- --data cifar10 --objective <teacher|sct|scd> [options]   (images: scripts/cli/train-images.ts)
 *
 * Trains on a 2-D Gaussian mixture in Node (TF.js CPU backend) and writes <out>/model.safetensors (EMA
 * weights, with the run's configuration as metadata) and <out>/metrics.jsonl (one JSON object per report).
 * sCT and sCD start from a teacher checkpoint (--teacher), as in the paper; sCD and the discrete-time CM
 * (--N grid intervals) require one. `--teacher exact` uses the mixture's analytic F* as a perfect teacher.
 *
 * Options: --modes 8 --spread 0.05 --steps 1000 --batch 256 --lr 1e-3 --optimizer adam|radam --seed 0 --hidden 64 --blocks 2
 *          --N 64 --teacher runs/teacher/model.safetensors|exact --out runs/<objective>
 */
import { mkdir, readFile, writeFile, appendFile } from "node:fs/promises";
import { join } from "node:path";
import * as tf from "@tensorflow/tfjs";
import { NonFiniteLossError, ToyRun, evaluationNoise, type ToyObjective } from "../../src/components/toy/toy-run.ts";
import { DEFAULT_TOY_RUN, type ToyRunConfig } from "../../src/components/toy/toy-run-config.ts";
import { MIXTURE_PRESETS, mixturePreset, type MixturePresetName } from "../../src/components/toy/mixture-presets.ts";
import { TimeConditionedMlp } from "../../src/components/nn/mlp.ts";
import { readSafetensors, writeSafetensors } from "../../src/components/checkpoint/safetensors.ts";
import { exactTeacher } from "../../src/components/toy/exact-teacher.ts";
import type { FlowNetwork } from "../../src/components/nn/network.ts";
import { useFastCpuKernels } from "../../src/components/runtime/cpu-kernels.ts";
import { exitWithError, parseCommandLine } from "../options.ts";

// CIFAR-10 images: the image training CLI (same model, data and files as the training page).
if (process.argv.slice(2).some((a, i, all) => a === "--data" && all[i + 1] === "cifar10")) {
  await import("./train-images.ts");
  process.exit(process.exitCode ?? 0);
}

function fail(message: string): never {
  return exitWithError("train", message);
}

const args = parseCommandLine("train", {
  data: "value", objective: "value", modes: "value", spread: "value", steps: "value", batch: "value", lr: "value",
  optimizer: "value", seed: "value", hidden: "value", blocks: "value", N: "value", teacher: "value", out: "value",
});
const number = (name: string, fallback: number) => {
  const value = Number(args.get(name) ?? fallback);
  if (!Number.isFinite(value)) fail(`--${name} must be a number`);
  return value;
};

const data = (args.get("data") ?? "ring") as MixturePresetName;
if (!(data in MIXTURE_PRESETS)) fail(`unknown --data "${data}"; choose one of ${Object.keys(MIXTURE_PRESETS).join(", ")}, or cifar10 (images)`);
const objective = (args.get("objective") ?? "") as ToyObjective;
if (!["teacher", "sct", "scd", "discrete", "ect"].includes(objective)) fail(`--objective must be teacher, sct, scd, discrete or ect (got "${objective}")`);
const mixtureShape = { modes: number("modes", 8), spread: number("spread", 0.05) };
const mixture = mixturePreset(data, mixtureShape);
const steps = number("steps", 1000);
const out = args.get("out") ?? join("runs", objective);

await tf.setBackend("cpu");
useFastCpuKernels();

let teacher: FlowNetwork | undefined;
let network = { ...DEFAULT_TOY_RUN.network, hidden: number("hidden", 64), blocks: number("blocks", 2) };
if (args.get("teacher") === "exact") {
  teacher = exactTeacher(mixture);
} else if (args.has("teacher")) {
  const path = args.get("teacher")!;
  const bytes = await readFile(path).catch(() => fail(`cannot read teacher checkpoint ${path}`));
  try {
    const { tensors, metadata } = readSafetensors(new Uint8Array(bytes));
    const saved = JSON.parse(metadata.run ?? "null") as { config: ToyRunConfig } | null;
    if (!saved) throw new Error("it has no sCM Lab run metadata");
    network = saved.config.network as typeof network;
    const loaded = new TimeConditionedMlp({ ...network, dataDim: mixture.dim });
    loaded.params.load(tensors);
    teacher = loaded;
  } catch (error) {
    fail(`teacher checkpoint ${path} cannot be used: ${(error as Error).message}`);
  }
} else if (objective === "scd" || objective === "discrete") {
  fail(`${objective} distils a teacher: pass --teacher <model.safetensors> (train one with --objective teacher) or --teacher exact`);
}

const config: ToyRunConfig = {
  ...DEFAULT_TOY_RUN,
  objective,
  network,
  batch: number("batch", DEFAULT_TOY_RUN.batch),
  learningRate: number("lr", objective === "teacher" ? 1e-3 : 3e-4),
  optimizer: args.get("optimizer") === "radam" ? "radam" : "adam",
  seed: number("seed", 0),
  discreteSteps: number("N", DEFAULT_TOY_RUN.discreteSteps),
};
const run = new ToyRun(mixture, config, teacher);
await mkdir(out, { recursive: true });
const metricsPath = join(out, "metrics.jsonl");
await writeFile(metricsPath, "");

const started = Date.now();
const evaluate = async () =>
  objective === "teacher"
    ? { ode_40nfe: run.distanceToData(await run.sampleOdeFrom(evaluationNoise(1024, run.mixture.dim, 1).first, 20)) }
    : (({ oneStep, twoStep }) => ({ one_step: oneStep, two_step: twoStep }))(await run.consistencyQuality(1024, 1));
try {
  for (let i = 1; i <= steps; i++) {
    const report = await run.step();
    const line: Record<string, unknown> = { ...report, seconds: (Date.now() - started) / 1000 };
    if (i % 100 === 0 || i === steps) Object.assign(line, { sliced_w2: await evaluate() });
    await appendFile(metricsPath, `${JSON.stringify(line)}\n`);
    if (i % Math.max(1, Math.floor(steps / 100)) === 0 || i === steps) {
      const width = 30;
      const done = Math.round((width * i) / steps);
      process.stderr.write(`\r[${"#".repeat(done)}${".".repeat(width - done)}] ${i}/${steps} loss ${report.loss.toFixed(4)}`);
    }
  }
} catch (error) {
  process.stderr.write("\n");
  if (error instanceof NonFiniteLossError) fail(error.message);
  throw error;
}
process.stderr.write("\n");

const weights = await run.ema.params.save();
const metadata = { run: JSON.stringify({ config, data, mixture: mixtureShape, steps, format: "sCM Lab toy run v1" }) };
await writeFile(join(out, "model.safetensors"), writeSafetensors(weights, metadata));
console.log(JSON.stringify({ out, steps, seconds: (Date.now() - started) / 1000, sliced_w2: await evaluate() }));
run.dispose();
