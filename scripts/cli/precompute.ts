/**
 * npm run precompute [-- --only stabilizers|discrete] [--student-steps 800 --teacher-steps 1000 --out-dir src/data]
 *
 * Trains the runs the stabilizers and continuous-vs-discrete pages show on first view, in Node on TF.js's CPU
 * backend, and writes src/data/stabilizers.json and src/data/discrete.json. Every number in those files
 * comes from here: regenerate them, never edit them. Seeds are fixed, so a rerun reproduces them (up to
 * float rounding on other CPUs).
 */
import { writeFile } from "node:fs/promises";
import * as tf from "@tensorflow/tfjs";
import { NonFiniteLossError, ToyRun, evaluationNoise } from "../../src/components/toy/toy-run.ts";
import type { ToyRunConfig } from "../../src/components/toy/toy-run-config.ts";
import { mixturePreset } from "../../src/components/toy/mixture-presets.ts";
import { evaluateToyRun } from "../../src/components/toy/toy-evaluation.ts";
import { mixtureMetric } from "../../src/components/toy/sample-metrics.ts";
import { ABLATIONS, PAPER_SETTINGS, STABILIZER_DATA, STABILIZER_TRAINING, architectureKey, configFromSettings, type StabilizerSettings } from "../../src/components/toy/experiments/stabilizers.ts";
import { DISCRETE_GRID_SIZES, TANGENT_GAP_SIZES, tangentGapByGridSize } from "../../src/components/toy/experiments/discrete.ts";
import { exactVelocity } from "../../src/components/trigflow/gaussian-mixture.ts";
import { ECT_DEFAULTS } from "../../src/components/objectives/ect.ts";
import { arrayOps } from "../../src/components/math/linear-ops.ts";
import { integrate, uniformTimes, STEPPERS } from "../../src/components/trigflow/ode-solvers.ts";
import { T_MAX } from "../../src/components/trigflow/trigflow.ts";
import { PRECOMPUTED_FORMAT, packWeights, unpackWeights, type DiscreteFile, type PrecomputedRun, type PrecomputedTeacher, type StabilizersFile } from "../../src/components/toy/experiments/precomputed.ts";
import { useFastCpuKernels } from "../../src/components/runtime/cpu-kernels.ts";
import { parseCommandLine } from "../options.ts";

const args = parseCommandLine("precompute", { only: "value", "student-steps": "value", "teacher-steps": "value", "out-dir": "value" });
const only = args.get("only");
const studentSteps = Number(args.get("student-steps") ?? STABILIZER_TRAINING.studentSteps);
const teacherSteps = Number(args.get("teacher-steps") ?? STABILIZER_TRAINING.teacherSteps);
const outDir = args.get("out-dir") ?? "src/data";
const { evaluateEvery, evaluationSamples } = STABILIZER_TRAINING;

await tf.setBackend("cpu");
useFastCpuKernels();
const mixture = mixturePreset(STABILIZER_DATA.preset, STABILIZER_DATA.options);
const log = (message: string) => process.stderr.write(`${message}\n`);
const significant = (x: number) => (Number.isFinite(x) ? Number(x.toPrecision(4)) : x);
const metricFloor = significant(mixtureMetric(mixture, evaluationSamples).floor);
const header = { format: PRECOMPUTED_FORMAT, mixture: { preset: STABILIZER_DATA.preset, ...STABILIZER_DATA.options }, evaluationSamples, metricFloor } as const;

const exactOdeQuality = (() => {
  const run = new ToyRun(mixture, configFromSettings(PAPER_SETTINGS, "teacher"));
  const samples = integrate(arrayOps, exactVelocity(mixture), evaluationNoise(evaluationSamples, mixture.dim, 1).first, uniformTimes(T_MAX, 0, 50), STEPPERS.heun);
  const quality = run.distanceToData(samples);
  run.dispose();
  return quality;
})();

const teachers = new Map<string, { run: ToyRun; saved: PrecomputedTeacher }>();
async function teacherFor(settings: StabilizerSettings) {
  const key = architectureKey(settings);
  if (!teachers.has(key)) {
    const started = performance.now();
    const config = configFromSettings(settings, "teacher");
    const run = new ToyRun(mixture, config);
    for (let i = 0; i < teacherSteps; i++) await run.step();
    const odeQuality = run.distanceToData(await run.sampleOdeFrom(evaluationNoise(evaluationSamples, mixture.dim, 1).first, 50));
    teachers.set(key, { run, saved: { key, config, weights: packWeights(await run.ema.params.save()), odeQuality, exactOdeQuality } });
    log(`teacher ${key}: ${teacherSteps} steps in ${((performance.now() - started) / 1000).toFixed(0)} s, ODE sliced W₂ ${odeQuality.toFixed(4)} (exact ODE ${exactOdeQuality.toFixed(4)})`);
  }
  return teachers.get(key)!;
}

/** Train one student from a teacher's EMA, measuring every `evaluateEvery` steps; keep samples at the end. */
async function trainStudent(id: string, label: string, config: ToyRunConfig, teacher: ToyRun, keepWeights = false): Promise<PrecomputedRun> {
  const started = performance.now();
  const run = new ToyRun(mixture, config, teacher.ema);
  const result: PrecomputedRun = { id, label, config, loss: [], gradientNorm: [], evaluations: [], seconds: 0 };
  // The final measurement also keeps samples for plotting and measures the exact consistency error.
  const measure = async (final: boolean) => result.evaluations.push(await evaluateToyRun(run, { samples: evaluationSamples, keepSamples: final ? 500 : 0, consistencyPoints: final ? 200 : 0, seed: 1 }));
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
  log(`${id}: ${run.iteration} steps in ${result.seconds.toFixed(0)} s, 1-step ${last.oneStep.toFixed(4)}, 2-step ${last.twoStep.toFixed(4)}${result.failure ? ` (${result.failure})` : ""}`);
  run.dispose();
  return result;
}

const started = performance.now();
if (only === undefined || only === "stabilizers") {
  const runs: StabilizersFile["runs"] = [];
  for (const ablation of ABLATIONS) {
    for (const variant of ablation.variants) {
      if (runs.some((r) => r.id === variant.id)) continue;
      const { run: teacher } = await teacherFor(variant.settings);
      runs.push({ ...(await trainStudent(variant.id, variant.label, configFromSettings(variant.settings, "sct"), teacher)), settings: variant.settings });
    }
  }
  const file: StabilizersFile = { ...header, seconds: (performance.now() - started) / 1000, teachers: [...teachers.values()].map((t) => t.saved), runs };
  await writeFile(`${outDir}/stabilizers.json`, JSON.stringify(file));
  log(`wrote ${outDir}/stabilizers.json`);
}
if (only === undefined || only === "discrete") {
  const begun = performance.now();
  const { run: teacher, saved } = await teacherFor(PAPER_SETTINGS);
  const base = configFromSettings(PAPER_SETTINGS, "scd");
  const continuous = await trainStudent("continuous", "continuous-time sCD", base, teacher, true);
  const discrete: DiscreteFile["discrete"] = [];
  for (const N of DISCRETE_GRID_SIZES) {
    discrete.push({ ...(await trainStudent(`N${N}`, `discrete, N = ${N}`, { ...base, objective: "discrete", discreteSteps: N }, teacher)), N });
  }
  // Consistency training instead of distillation, from the same start with the same budget: sCT and ECT.
  const training = [
    await trainStudent("sct", "continuous-time sCT", configFromSettings(PAPER_SETTINGS, "sct"), teacher),
    await trainStudent("ect", "ECT (discrete time, shrinking gap)", { ...configFromSettings(PAPER_SETTINGS, "ect"), ect: { ...ECT_DEFAULTS, stageIterations: Math.ceil(studentSteps / 8) } }, teacher),
  ];
  // The tangent gap of the trained continuous model (its EMA weights) against its own teacher, at float32.
  const student = new ToyRun(mixture, base, teacher.ema);
  student.net.params.load(unpackWeights(continuous.weights!));
  const tangentGap = await tangentGapByGridSize(student.net, teacher.ema, mixture, TANGENT_GAP_SIZES, 256, 3);
  student.dispose();
  const file: DiscreteFile = { ...header, seconds: (performance.now() - begun) / 1000, teacher: saved, continuous, discrete, training, tangentGap };
  await writeFile(`${outDir}/discrete.json`, JSON.stringify(file));
  log(`wrote ${outDir}/discrete.json`);
}
teachers.forEach((t) => t.run.dispose());
