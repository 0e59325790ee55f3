/**
 * The Node side of `npm run bench:train`, run as an esbuild bundle (TF.js's ESM build: its CPU backend runs
 * about 3× faster there than through the CommonJS `main` that tsx resolves, ../shared/docs/webgpu-testing.md)
 * and the whole of the self-contained GPU package (see package.ts), so it must import nothing at run time:
 *
 *   node bench-train.mjs [--backend webgpu|cpu] [--preset tiny|small|base] [--batch 4] [--steps 5] [--warmup 2]
 *                        [--resolution 32] [--json]
 *
 * For WebGPU it loads Dawn's `dawn.node` (from the `webgpu` package) from $DAWN_NODE, next to the bundle, or
 * from node_modules/webgpu; Dawn picks a Vulkan driver (VK_ICD_FILENAMES chooses one). Prints `name: value`
 * lines, or with --json one JSON line for the orchestrator (scripts/bench/train.ts).
 */
import { createRequire } from "node:module";
import { existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import * as tf from "@tensorflow/tfjs";
import { DEFAULT_TRAIN_BENCH, describeWebGpuAdapter, resultLines, runTrainBench, type TrainBenchOptions } from "./kernel.ts";
import { BENCH_OPTIONS, benchOptionsFrom } from "./options.ts";
import { parseOptions } from "../../options.ts";
import { useFastCpuKernels } from "../../../src/components/runtime/cpu-kernels.ts";

/** Options of the Node bundle: the size, one backend, and --json. */
function parseBenchOptions(argv: string[], defaults: TrainBenchOptions, backends: string[]): { options: TrainBenchOptions; backend: string; json: boolean } {
  const args = parseOptions(argv, { ...BENCH_OPTIONS, backend: "value", json: "flag" });
  const backend = args.get("backend") ?? backends.at(-1)!;
  if (!backends.includes(backend)) throw new Error(`--backend must be one of ${backends.join(", ")} (got ${backend})`);
  return { options: benchOptionsFrom(args, defaults), backend, json: args.has("json") };
}

const argv = process.argv.slice(2);
const json = argv.includes("--json");
const say = (line: string) => process.stderr.write(`${line}\n`);

function loadDawn(): { create(flags: string[]): unknown; globals: object } {
  const here = dirname(fileURLToPath(import.meta.url));
  const candidates = [process.env.DAWN_NODE, join(here, "dawn.node"), resolve("node_modules/webgpu/dist", `${process.platform}-${process.arch}`, "dawn.node")].filter((p): p is string => !!p);
  const path = candidates.find((p) => existsSync(p));
  if (!path) throw new Error(`dawn.node not found (looked at ${candidates.join(", ")})`);
  return createRequire(import.meta.url)(path);
}

async function main(): Promise<void> {
  const { options, backend } = parseBenchOptions(argv, DEFAULT_TRAIN_BENCH, ["cpu", "webgpu"]);
  let adapter = "";
  if (backend === "webgpu") {
    const { create, globals } = loadDawn();
    Object.assign(globalThis, globals);
    Object.defineProperty(globalThis, "navigator", { value: { gpu: create([]) }, configurable: true, writable: true });
    adapter = await describeWebGpuAdapter();
    if (adapter === "no adapter") {
      throw new Error("no WebGPU adapter: Dawn found no usable Vulkan driver (is the GPU's Vulkan driver installed? in a container, NVIDIA_DRIVER_CAPABILITIES must include graphics; VK_ICD_FILENAMES picks a driver's JSON)");
    }
    // Registers 'webgpu' only if navigator.gpu exists when it is evaluated, hence after the lines above.
    await import("@tensorflow/tfjs-backend-webgpu");
  }
  useFastCpuKernels();
  if (!(await tf.setBackend(backend)) || tf.getBackend() !== backend) throw new Error(`TF.js could not initialise the ${backend} backend${adapter ? ` (adapter: ${adapter})` : ""}`);
  const result = await runTrainBench(options, json ? () => {} : say);
  if (json) {
    process.stdout.write(`${JSON.stringify({ ok: true, adapter, result })}\n`);
    return;
  }
  const { preset, batch, resolution, steps, warmup } = options;
  console.log(`# bench:train node ${backend}${adapter ? ` (${adapter})` : ""}: preset ${preset} (${result.parameters} parameters), batch ${batch}×${resolution}×${resolution}×3, warm-up ${warmup}, median of ${steps} interleaved steps; tensors leaked ${result.tensorGrowth}`);
  for (const [name, value] of resultLines(`node_${backend}_`, result)) console.log(`${name}: ${value}`);
  console.log(`sct_step_over_diffusion_step_unet: ${(result.sctStepMs / result.diffusionStepMs).toFixed(3)}`);
}

main().then(
  () => process.exit(0),
  (error: Error) => {
    if (json) process.stdout.write(`${JSON.stringify({ ok: false, error: error.message })}\n`);
    else console.error(`bench:train: ${error.message}`);
    process.exit(1);
  },
);
