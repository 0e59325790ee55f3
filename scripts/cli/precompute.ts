/**
 * npm run precompute [-- --only stabilizers|discrete|discrete-half|scaling] [--seeds 0,1,2,3] [--backend wasm|cpu]
 *                       [--student-steps 800 --teacher-steps 1000 --out-dir src/data]
 *
 * Trains the runs the stabilizers and continuous-vs-discrete pages show on first view, in Node on TF.js's
 * WebAssembly backend by default (`--backend cpu` for the CPU backend with cpu-kernels.ts; WASM runs these
 * 2-D jobs about 3× faster with the same numbers, see npm run bench:toy), and writes src/data/stabilizers.json
 * and src/data/discrete.json. Every configuration is trained once per seed: the seed sets the teacher's and the
 * student's initialisation and training noise, so seeds are independent replicates, while the evaluation noise
 * is the same for all of them (it measures the model). Every number in those files comes from here: regenerate
 * them, never edit them. Seeds are fixed, so a rerun reproduces them (up to float rounding on other CPUs).
 */
import { readFile, writeFile } from "node:fs/promises";
import * as tf from "@tensorflow/tfjs";
import "@tensorflow/tfjs-backend-wasm";
import { NonFiniteLossError, ToyRun, evaluationNoise } from "../../src/components/toy/toy-run.ts";
import type { ToyRunConfig } from "../../src/components/toy/toy-run-config.ts";
import { mixturePreset } from "../../src/components/toy/mixture-presets.ts";
import { evaluateToyRun } from "../../src/components/toy/toy-evaluation.ts";
import { mixtureMetric } from "../../src/components/toy/sample-metrics.ts";
import { ABLATIONS, PAPER_SETTINGS, STABILIZER_DATA, STABILIZER_NETWORK, STABILIZER_TRAINING, architectureKey, configFromSettings, type StabilizerSettings } from "../../src/components/toy/experiments/stabilizers.ts";
import { SCALING_METHODS, SCALING_METHOD_LABELS, SCALING_WIDTHS, scalingConfig } from "../../src/components/toy/experiments/scaling.ts";
import { HALF_GRID_SIZES } from "../../src/components/toy/experiments/discrete-sizes.ts";
import { DISCRETE_GRID_SIZES, TANGENT_GAP_SIZES, tangentGapByGridSize } from "../../src/components/toy/experiments/discrete.ts";
import { exactVelocity } from "../../src/components/trigflow/gaussian-mixture.ts";
import { ECT_DEFAULTS } from "../../src/components/objectives/ect.ts";
import { arrayOps } from "../../src/components/math/linear-ops.ts";
import { integrate, uniformTimes, STEPPERS } from "../../src/components/trigflow/ode-solvers.ts";
import { T_MAX } from "../../src/components/trigflow/trigflow.ts";
import { PRECOMPUTED_FORMAT, checkPrecomputed, type DiscreteHalfFile, gradientNormSummary, packWeights, unpackWeights, type DiscreteFile, type PrecomputedRun, type PrecomputedTeacher, type ScalingFile, type SeedRun, type StabilizersFile } from "../../src/components/toy/experiments/precomputed.ts";
import { useFastCpuKernels } from "../../src/components/runtime/cpu-kernels.ts";
import { useFastWasmKernels } from "../../src/components/runtime/wasm-kernels.ts";
import { exitWithError, parseCommandLine } from "../options.ts";

const args = parseCommandLine("precompute", { only: "value", seeds: "value", backend: "value", "student-steps": "value", "teacher-steps": "value", "out-dir": "value" });
const only = args.get("only");
const PARTS = ["stabilizers", "discrete", "discrete-half", "scaling"] as const;
if (only !== undefined && !(PARTS as readonly string[]).includes(only)) exitWithError("precompute", `--only takes ${PARTS.join(", ")}, not "${only}"`);
const seeds = (args.get("seeds") ?? "0,1,2,3").split(",").map(Number);
if (seeds.length === 0 || seeds.some((s) => !Number.isInteger(s) || s < 0)) exitWithError("precompute", `--seeds takes non-negative integers separated by commas, not "${args.get("seeds")}"`);
const backend = args.get("backend") ?? "wasm";
if (backend !== "wasm" && backend !== "cpu") exitWithError("precompute", `--backend takes wasm or cpu, not "${backend}"`);
const studentSteps = Number(args.get("student-steps") ?? STABILIZER_TRAINING.studentSteps);
const teacherSteps = Number(args.get("teacher-steps") ?? STABILIZER_TRAINING.teacherSteps);
const outDir = args.get("out-dir") ?? "src/data";
const { evaluateEvery, evaluationSamples } = STABILIZER_TRAINING;

if (!(await tf.setBackend(backend))) throw new Error(`TF.js backend ${backend} failed to initialise`);
if (backend === "cpu") useFastCpuKernels();
if (backend === "wasm") useFastWasmKernels();
const mixture = mixturePreset(STABILIZER_DATA.preset, STABILIZER_DATA.options);
const log = (message: string) => process.stderr.write(`${message}\n`);
const significant = (x: number) => (Number.isFinite(x) ? Number(x.toPrecision(4)) : x);
const metricFloor = significant(mixtureMetric(mixture, evaluationSamples).floor);
const header = { format: PRECOMPUTED_FORMAT, mixture: { preset: STABILIZER_DATA.preset, ...STABILIZER_DATA.options }, evaluationSamples, metricFloor, seeds, backend } as const;
/** The evaluation noise's seed: one for every model and every training seed, so runs differ only by their training. */
const EVALUATION_SEED = 1;

const exactOdeQuality = (() => {
  const run = new ToyRun(mixture, configFromSettings(PAPER_SETTINGS, "teacher"));
  const samples = integrate(arrayOps, exactVelocity(mixture), evaluationNoise(evaluationSamples, mixture.dim, EVALUATION_SEED).first, uniformTimes(T_MAX, 0, 50), STEPPERS.heun);
  const quality = run.distanceToData(samples);
  run.dispose();
  return quality;
})();

/** One teacher per architecture and seed (App. G.2: a student starts from the teacher of its architecture). */
const teachers = new Map<string, { runs: ToyRun[]; saved: PrecomputedTeacher }>();
async function teachersFor(settings: StabilizerSettings) {
  return teachersOf(architectureKey(settings), (seed) => configFromSettings(settings, "teacher", seed));
}
async function teachersOf(key: string, configFor: (seed: number) => ToyRunConfig) {
  if (!teachers.has(key)) {
    const runs: ToyRun[] = [];
    const odeQuality: number[] = [];
    for (const seed of seeds) {
      const started = performance.now();
      const run = new ToyRun(mixture, configFor(seed));
      for (let i = 0; i < teacherSteps; i++) await run.step();
      odeQuality.push(run.distanceToData(await run.sampleOdeFrom(evaluationNoise(evaluationSamples, mixture.dim, EVALUATION_SEED).first, 50)));
      runs.push(run);
      log(`teacher ${key}, seed ${seed}: ${teacherSteps} steps in ${((performance.now() - started) / 1000).toFixed(0)} s, ODE sliced W₂ ${odeQuality.at(-1)!.toFixed(4)} (exact ODE ${exactOdeQuality.toFixed(4)})`);
    }
    // The live runs start from the first seed's teacher, so only its weights are kept.
    const saved = { key, config: runs[0].config, weights: packWeights(await runs[0].ema.params.save()), odeQuality, exactOdeQuality };
    teachers.set(key, { runs, saved });
  }
  return teachers.get(key)!;
}

type FullRun = Omit<PrecomputedRun, "seeds">;

/** Train one student from a teacher's EMA, measuring every `evaluateEvery` steps; keep samples at the end. */
async function trainStudent(id: string, label: string, config: ToyRunConfig, teacher: ToyRun, keepWeights: boolean): Promise<FullRun> {
  const started = performance.now();
  const run = new ToyRun(mixture, config, teacher.ema);
  const result: FullRun = { id, label, config, loss: [], gradientNorm: [], evaluations: [], seconds: 0 };
  // The final measurement also keeps samples for plotting and measures the exact consistency error.
  const measure = async (final: boolean) => result.evaluations.push(await evaluateToyRun(run, { samples: evaluationSamples, keepSamples: final ? 500 : 0, consistencyPoints: final ? 200 : 0, seed: EVALUATION_SEED }));
  await measure(false);
  try {
    while (run.iteration < studentSteps) {
      const report = await run.step();
      result.loss.push(significant(report.loss));
      result.gradientNorm.push(significant(report.gradientNorm));
      if (report.iteration % evaluateEvery === 0 || report.iteration === studentSteps) await measure(report.iteration === studentSteps);
    }
  } catch (error) {
    if (!(error instanceof NonFiniteLossError)) throw error;
    result.failure = error.message;
    await measure(true);
  }
  result.seconds = (performance.now() - started) / 1000;
  if (keepWeights) result.weights = packWeights(await run.ema.params.save());
  const last = result.evaluations.at(-1)!;
  log(`${id}, seed ${config.seed}: ${run.iteration} steps in ${result.seconds.toFixed(0)} s, 1-step ${last.oneStep.toFixed(4)}, 2-step ${last.twoStep.toFixed(4)}${result.failure ? ` (${result.failure})` : ""}`);
  run.dispose();
  return result;
}

/** The small per-seed record of a full run. */
function seedRunOf(run: FullRun, seed: number): SeedRun {
  const last = run.evaluations.at(-1)!;
  return {
    seed,
    quality: run.evaluations.map(({ iteration, oneStep, twoStep }) => ({ iteration, oneStep, twoStep })),
    ...(last.consistencyError ? { consistencyError: last.consistencyError } : {}),
    gradientNorm: gradientNormSummary(run.gradientNorm),
    ...(run.failure ? { failure: run.failure } : {}),
    seconds: run.seconds,
  };
}

/**
 * One configuration over every seed, each from its own seed's teacher: the first seed's full record (and
 * weights, if asked), and every seed's replicate.
 */
async function trainOverSeeds(id: string, label: string, configFor: (seed: number) => ToyRunConfig, teacherRuns: ToyRun[], keepWeights = false): Promise<PrecomputedRun> {
  let first: FullRun | undefined;
  const replicates: SeedRun[] = [];
  for (const [i, seed] of seeds.entries()) {
    const run = await trainStudent(id, label, configFor(seed), teacherRuns[i], keepWeights && i === 0);
    first ??= run;
    replicates.push(seedRunOf(run, seed));
  }
  return { ...first!, seeds: replicates };
}

const started = performance.now();
if (only === undefined || only === "stabilizers") {
  const runs: StabilizersFile["runs"] = [];
  for (const ablation of ABLATIONS) {
    for (const variant of ablation.variants) {
      if (runs.some((r) => r.id === variant.id)) continue;
      const { runs: teacherRuns } = await teachersFor(variant.settings);
      runs.push({ ...(await trainOverSeeds(variant.id, variant.label, (seed) => configFromSettings(variant.settings, "sct", seed), teacherRuns)), settings: variant.settings });
    }
  }
  const keys = new Set(ABLATIONS.flatMap((a) => a.variants.map((v) => architectureKey(v.settings))));
  const file: StabilizersFile = { ...header, seconds: (performance.now() - started) / 1000, teachers: [...teachers.entries()].filter(([key]) => keys.has(key)).map(([, t]) => t.saved), runs };
  await writeFile(`${outDir}/stabilizers.json`, JSON.stringify(file));
  log(`wrote ${outDir}/stabilizers.json (${seeds.length} seeds on ${backend}, ${(file.seconds / 60).toFixed(1)} min)`);
}
if (only === undefined || only === "discrete") {
  const begun = performance.now();
  const { runs: teacherRuns, saved } = await teachersFor(PAPER_SETTINGS);
  const base = (seed: number) => configFromSettings(PAPER_SETTINGS, "scd", seed);
  const continuous = await trainOverSeeds("continuous", "continuous-time sCD", base, teacherRuns, true);
  const discrete: DiscreteFile["discrete"] = [];
  for (const N of DISCRETE_GRID_SIZES) {
    discrete.push({ ...(await trainOverSeeds(`N${N}`, `discrete, N = ${N}`, (seed) => ({ ...base(seed), objective: "discrete", discreteSteps: N }), teacherRuns)), N });
  }
  // Consistency training instead of distillation, from the same start with the same budget: sCT and ECT.
  const training = [
    await trainOverSeeds("sct", "continuous-time sCT", (seed) => configFromSettings(PAPER_SETTINGS, "sct", seed), teacherRuns),
    await trainOverSeeds("ect", "ECT (discrete time, shrinking gap)", (seed) => ({ ...configFromSettings(PAPER_SETTINGS, "ect", seed), ect: { ...ECT_DEFAULTS, stageIterations: Math.ceil(studentSteps / 8) } }), teacherRuns),
  ];
  // The tangent gap of the first seed's trained continuous model (its EMA weights) against its own teacher, at
  // float32: the one model the page can recompute it for (its weights are in the file).
  const teacher = teacherRuns[0];
  const student = new ToyRun(mixture, base(seeds[0]), teacher.ema);
  student.net.params.load(unpackWeights(continuous.weights!));
  const tangentGap = await tangentGapByGridSize(student.net, teacher.ema, mixture, TANGENT_GAP_SIZES, 256, 3);
  student.dispose();
  const file: DiscreteFile = { ...header, seconds: (performance.now() - begun) / 1000, teacher: saved, continuous, discrete, training, tangentGap };
  await writeFile(`${outDir}/discrete.json`, JSON.stringify(file));
  log(`wrote ${outDir}/discrete.json (${seeds.length} seeds on ${backend}, ${(file.seconds / 60).toFixed(1)} min)`);
}
if (only === undefined || only === "discrete-half") {
  // Finding 2 at the precision where it bites: the same distillation runs with fp16 targets (App. E, §5.1).
  const begun = performance.now();
  const { runs: teacherRuns } = await teachersFor(PAPER_SETTINGS);
  const half = (config: ToyRunConfig): ToyRunConfig => ({ ...config, scm: { ...config.scm, precision: "half" } });
  const base = (seed: number) => half(configFromSettings(PAPER_SETTINGS, "scd", seed));
  const continuous = await trainOverSeeds("continuous-half", "continuous-time sCD, fp16 targets", base, teacherRuns);
  const discrete: DiscreteHalfFile["discrete"] = [];
  for (const N of HALF_GRID_SIZES) {
    discrete.push({ ...(await trainOverSeeds(`N${N}-half`, `discrete, N = ${N}, fp16 targets`, (seed) => ({ ...base(seed), objective: "discrete", discreteSteps: N }), teacherRuns)), N });
  }
  // The fp16 tangent gap of the float32 continuous model the discrete page shows (its weights are in discrete.json).
  const float32File = checkPrecomputed<DiscreteFile>(JSON.parse(await readFile(`${outDir}/discrete.json`, "utf8")), "discrete.json");
  const student = new ToyRun(mixture, float32File.continuous.config, teacherRuns[0].ema);
  const teacher = new ToyRun(mixture, float32File.teacher.config);
  student.net.params.load(unpackWeights(float32File.continuous.weights!));
  teacher.ema.params.load(unpackWeights(float32File.teacher.weights));
  const tangentGap = await tangentGapByGridSize(student.net, teacher.ema, mixture, TANGENT_GAP_SIZES, 256, 3, undefined, "half");
  student.dispose();
  teacher.dispose();
  const file: DiscreteHalfFile = { ...header, seconds: (performance.now() - begun) / 1000, continuous, discrete, tangentGap };
  await writeFile(`${outDir}/discrete-half.json`, JSON.stringify(file));
  log(`wrote ${outDir}/discrete-half.json (${seeds.length} seeds on ${backend}, ${(file.seconds / 60).toFixed(1)} min)`);
}
if (only === undefined || only === "scaling") {
  // Finding 3: at each width, a teacher per seed, then sCD and sCT from it with the same budget (scaling.ts).
  const begun = performance.now();
  const widths: ScalingFile["widths"] = [];
  for (const width of SCALING_WIDTHS) {
    // The stabilizers page's network is one of the widths: its teachers are shared, not retrained.
    const key = width === STABILIZER_NETWORK.hidden ? architectureKey(PAPER_SETTINGS) : `${architectureKey(PAPER_SETTINGS)}|width ${width}`;
    const { runs: teacherRuns, saved } = await teachersOf(key, (seed) => scalingConfig(width, "teacher", seed));
    const runs = {} as ScalingFile["widths"][number]["runs"];
    for (const method of SCALING_METHODS) {
      runs[method] = [];
      for (const [i, seed] of seeds.entries()) runs[method].push(seedRunOf(await trainStudent(`${method}-w${width}`, SCALING_METHOD_LABELS[method], scalingConfig(width, method, seed), teacherRuns[i], false), seed));
    }
    widths.push({ width, parameters: teacherRuns[0].net.params.count(), teacherOdeQuality: saved.odeQuality, runs });
  }
  const file: ScalingFile = { ...header, seconds: (performance.now() - begun) / 1000, widths };
  await writeFile(`${outDir}/scaling.json`, JSON.stringify(file));
  log(`wrote ${outDir}/scaling.json (${seeds.length} seeds on ${backend}, ${(file.seconds / 60).toFixed(1)} min)`);
}
teachers.forEach((t) => t.runs.forEach((run) => run.dispose()));
