/**
 * npm run bench:toy [-- --seeds 0,1,2,3 --backend cpu|wasm --teacher-steps 2000 --sct-steps 4000 --sct-batch 512 --adaptive 0 --samples 4096 --check-every 25]
 *
 * One run on a fixed preset (ring of 8 modes), for each seed (default 0–3): train a TrigFlow teacher, then sCT
 * from its EMA, and compare exact sample quality measured in the same run. First it times a step on every
 * backend a 2-D job can use in Node (CPU with cpu-kernels.ts, WASM), side by side, and trains on the fastest
 * (or on --backend). Prints `name: value` lines:
 *   two_step_over_teacher_seedN   2-step sCT (t_mid = 1.1) / teacher's 100-NFE ODE samples, per seed
 *   two_step_over_teacher_mean, _max   over the seeds (goals ≤ 1.05 and ≤ 1.15)
 *   one_step_over_teacher_mean    1-step sCT / the same
 *   two_step_over_exact_ode_mean  2-step sCT / 100-NFE samples of the analytic ODE
 *   sct_seconds_to_target_seedN, _max   training seconds until sCT's 2-step metric is within 1.2× the teacher's (goal ≤ 10)
 *   scd_exact_two_step_over_teacher_seedN   the control (first seed): the same student trained by sCD from the analytic F*
 *   sct_step_ms_<backend>, diffusion_step_ms_<backend>, sct_step_cpu_over_wasm   step times side by side
 *   sct_step_over_diffusion_step_mlp   one sCT step / one diffusion step on the training backend, timed interleaved
 *   kernels_per_diffusion_step_mlp, kernels_per_sct_step_mlp   TF.js kernels one step dispatches (hardware-independent)
 *   sct_step_stock_over_fast_cpu_kernels   an sCT step with TF.js's CPU kernels / with cpu-kernels.ts's
 * and `#` lines with the raw metrics and the metric's own floor and spread.
 *
 * The metric (sample-metrics.ts, MixtureSlicedWasserstein): the exact sliced W₂ between the n samples and the
 * true mixture itself — no reference samples — over 64 evenly spaced directions. Every sampler (teacher ODE,
 * exact ODE, sCT 1- and 2-step) starts from the same quasi-random noise: n = 4096 points of a scrambled 4-D
 * Sobol sequence mapped through Φ⁻¹ (quasi-random.ts); coordinates 1–2 are the noise at t_max for all of
 * them, coordinates 3–4 the fresh noise of sCT's second step. A perfect set of 4096 atoms scores 0.0005, the
 * exact ODE ≈0.0026, and the teacher's value moves by ±0.3% between noise seeds, so ratios are read to about
 * ±1%. The run prints the spread of the final 2-step metric over 4 more noise seeds.
 *
 * Honesty rules the script keeps: the same metric and the same starting noise for teacher and student; the
 * teacher is trained in this run; the final ratios are those of the last step (no checkpoint is picked by the
 * metric); the target check every `check-every` steps is the only use of the metric during training, and a
 * crossing is re-measured on independent noise (printed).
 *
 * Settings. Teacher: 2000 steps at batch 128 (lr 2e-3, EMA half-life 10k samples). sCT starts from the
 * teacher's EMA: 4000 steps at batch 512, lr 2e-3 held for the first half and decayed linearly to 0 over the
 * second, EMA half-life 30k samples, adaptive weighting off, proposal (−1.0, 1.8) (the paper's ECT-comparison
 * setting), tangent normalisation c = 1, warm-up over 200 steps; the pages keep the paper's c = 0.1 and w(t).
 * Why each:
 * - Batch 512: sCT's gap here is the variance of Alg. 1's one-sample velocity dx_t/dt = cos t·z − sin t·x0. The
 *   control shows it: the same student trained by sCD from the analytic F* (dx_t/dt without variance; same start,
 *   same settings) ends at 0.64–0.80 of the teacher. Batch 512 cuts the variance 4× for 2.3× the step time.
 * - Adaptive weighting off: with the learned w(t) (Eq. 8), the error of f against the exact consistency function
 *   grows at small and middle t while it shrinks at large t (sCD from F*, batch 128, steps 400 → 1600: t = 0.3
 *   0.054 → 0.063, t = 0.7 0.069 → 0.084, t = t_max 0.115 → 0.071), so 2-step quality, which relies on f at
 *   t_mid = 1.1, peaks and drifts up (0.96 → 1.23) while 1-step keeps improving. Without w(t) every one of those
 *   errors falls (t = 0.3: 0.053 → 0.044) and 2-step ends at 0.87.
 * - The lr decay: without it 2-step quality wanders by ±0.1 between checks.
 * - 4000 steps: with 2000 (the same schedule, halved) seeds 0/1/2/3 ended at 0.908 / 1.004 / 1.177 / 1.100 (mean
 *   1.048, max 1.177): sCT's own 2-step metric was 0.023–0.025 on every seed while the teacher's moves between
 *   0.021 and 0.025, so the seeds with the better teachers missed. 4000 steps: 0.762 / 0.813 / 1.077 / 1.032
 *   (mean 0.921, max 1.077), sCT 2-step 0.019–0.023. The 1.2× crossing comes at the same steps (500–950: the lr
 *   is constant until the decay starts), so the time to target does not change. With w(t) on and 500 steps:
 * 1.256 / 1.216 / 1.501 (seeds 0–2); on and 1200 steps: 1.168 (seed 0).
 * Also tried (seed 0, ratio at the end; the first settings — batch 128, constant lr 1e-3, EMA 10k, 800 steps,
 * w(t) on — gave 1.22 / 1.48 / 1.62 for seeds 0/1/2): batch 128 with EMA 50k 1.31 after 1600 steps; c = 0.1 1.92
 * (best 1.30 at 800); batch 512 constant lr 1e-3, EMA 100k 1.31 after 800; batch 1024 lr 2e-3 1.99 after 400
 * (against a teacher trained at batch 1024, 0.0151); a 2×64 MLP at batch 128 oscillated between 1.5 and 2.5 over
 * 2000 steps; at batch 512 with w(t) a 1×64 MLP ended at 1.34 and a 2×32 at 1.65 (their teachers are better:
 * 0.0184 and 0.0140 against 0.025, and sCT does not keep up).
 */
import * as tf from "@tensorflow/tfjs";
import "@tensorflow/tfjs-backend-wasm";
import { ToyRun, evaluationNoise } from "../../src/components/toy/toy-run.ts";
import { DEFAULT_TOY_RUN, type ToyRunConfig } from "../../src/components/toy/toy-run-config.ts";
import { mixturePreset } from "../../src/components/toy/mixture-presets.ts";
import { exactVelocity } from "../../src/components/trigflow/gaussian-mixture.ts";
import { exactTeacher } from "../../src/components/toy/exact-teacher.ts";
import { MixtureSlicedWasserstein } from "../../src/components/toy/sample-metrics.ts";
import { arrayOps } from "../../src/components/math/linear-ops.ts";
import { integrate, uniformTimes, STEPPERS } from "../../src/components/trigflow/ode-solvers.ts";
import { T_MAX, T_MID } from "../../src/components/trigflow/trigflow.ts";
import { useFastCpuKernels } from "../../src/components/runtime/cpu-kernels.ts";
import { useFastWasmKernels } from "../../src/components/runtime/wasm-kernels.ts";
import { exitWithError, parseCommandLine } from "../options.ts";
import { countKernels, describeKernelCount } from "../../src/components/runtime/kernel-count.ts";

const args = parseCommandLine("bench:toy", { seeds: "value", backend: "value", "teacher-steps": "value", "sct-steps": "value", samples: "value", "check-every": "value", hidden: "value", blocks: "value", "sct-batch": "value", lr: "value", "decay-from": "value", warmup: "value", ema: "value", c: "value", adaptive: "value", "p-mean": "value", "p-std": "value" });
const option = (name: string, fallback: number) => Number(args.get(name) ?? fallback);
/** The backends a 2-D toy job can use in Node; the pages add WebGL/WebGPU, timed in test/e2e/live-timing.test.ts. */
const TOY_BACKENDS = ["cpu", "wasm"] as const;
type ToyBackend = (typeof TOY_BACKENDS)[number];
const seeds = (args.get("seeds") ?? "0,1,2,3").split(",").map(Number);
if (seeds.some((s) => !Number.isInteger(s) || s < 0)) exitWithError("bench:toy", `--seeds takes non-negative integers separated by commas, not "${args.get("seeds")}"`);
const requestedBackend = args.get("backend");
if (requestedBackend !== undefined && !TOY_BACKENDS.includes(requestedBackend as ToyBackend)) exitWithError("bench:toy", `--backend takes ${TOY_BACKENDS.join(" or ")}, not "${requestedBackend}"`);
// Defaults sized to finish in about six minutes for four seeds on the fastest backend here (WASM: a 1×32 MLP
// takes ~5 ms per teacher step at batch 128 and ~13 ms per sCT step at batch 512; the CPU backend 3–4× more).
const teacherSteps = option("teacher-steps", 2000);
const sctSteps = option("sct-steps", 4000);
const samples = option("samples", 4096);
const checkEvery = option("check-every", 25);
const hidden = option("hidden", 32);
const blocks = option("blocks", 1);
const sct = {
  batch: option("sct-batch", 512),
  learningRate: option("lr", 2e-3),
  /** the lr falls linearly from here to 0 at the last step */
  decayFrom: option("decay-from", 0.5),
  warmup: option("warmup", 200),
  emaHalfLife: option("ema", 30_000),
  c: option("c", 1),
  /** 1: the paper's learned weighting w(t) (Eq. 8); 0: plain mean square */
  adaptive: option("adaptive", 0),
  pMean: option("p-mean", -1.0),
  pStd: option("p-std", 1.8),
};

const mixture = mixturePreset("ring", { modes: 8, spread: 0.06 });
const baseFor = (seed: number): ToyRunConfig => ({
  ...DEFAULT_TOY_RUN,
  network: { hidden, blocks, groups: 4, timeEmbedding: { kind: "positional", dim: 16 } },
  batch: 128,
  emaHalfLife: 10_000,
  seed,
});
const studentFor = (seed: number): ToyRunConfig => ({
  ...baseFor(seed),
  objective: "sct",
  batch: sct.batch,
  learningRate: sct.learningRate,
  emaHalfLife: sct.emaHalfLife,
  proposal: { pMean: sct.pMean, pStd: sct.pStd },
  scm: { ...DEFAULT_TOY_RUN.scm, warmupIterations: sct.warmup, normalization: { kind: "l2", c: sct.c }, adaptiveWeighting: sct.adaptive === 1 },
});
/** Linear decay of the lr to 0 at the last step, from the fraction `decayFrom` of the run on. */
const learningRateAt = (step: number) => sct.learningRate * Math.min(1, (sctSteps - step) / ((1 - sct.decayFrom) * sctSteps));
const stage = (message: string) => process.stderr.write(`${message}\n`);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

async function useBackend(name: ToyBackend): Promise<void> {
  if (!(await tf.setBackend(name))) throw new Error(`TF.js backend ${name} failed to initialise`);
  await tf.ready();
  if (name === "cpu") useFastCpuKernels();
  if (name === "wasm") useFastWasmKernels();
}

// ---- Step cost on every backend, side by side: alternating blocks, fresh runs (tensors stay on one backend) ----
// A diffusion step and an sCT step of the same network and batch (the teacher's batch is raised to the
// student's), timed interleaved within each block.
const stepTimes = Object.fromEntries(TOY_BACKENDS.map((b) => [b, { sct: [] as number[], diffusion: [] as number[] }])) as Record<ToyBackend, { sct: number[]; diffusion: number[] }>;
for (let round = 0; round < 2; round++) {
  for (const backend of TOY_BACKENDS) {
    await useBackend(backend);
    const diffusion = new ToyRun(mixture, { ...baseFor(0), objective: "teacher", batch: sct.batch });
    const student = new ToyRun(mixture, studentFor(0), diffusion.ema);
    for (let i = 0; i < 3; i++) {
      await diffusion.step();
      await student.step();
    }
    for (let r = 0; r < 10; r++) {
      let start = performance.now();
      await diffusion.step();
      stepTimes[backend].diffusion.push(performance.now() - start);
      start = performance.now();
      await student.step();
      stepTimes[backend].sct.push(performance.now() - start);
    }
    diffusion.dispose();
    student.dispose();
  }
}
const sctMs = (b: ToyBackend) => median(stepTimes[b].sct);
const fastest = [...TOY_BACKENDS].sort((a, b) => sctMs(a) - sctMs(b))[0];
const backend: ToyBackend = (requestedBackend as ToyBackend | undefined) ?? fastest;
stage(`sCT step: ${TOY_BACKENDS.map((b) => `${b} ${sctMs(b).toFixed(1)} ms`).join(", ")}; training on ${backend}`);

// Kernels per step (hardware-independent: what a GPU would dispatch) and TF.js's own CPU kernels against
// cpu-kernels.ts's strided ones, interleaved (bit-identical results, test/cpu-kernels.test.ts).
await useBackend("cpu");
const kernelRuns = { diffusion: new ToyRun(mixture, { ...baseFor(0), objective: "teacher", batch: sct.batch }), sct: null as ToyRun | null };
kernelRuns.sct = new ToyRun(mixture, studentFor(0), kernelRuns.diffusion.ema);
// Two steps first: a run's first step also creates its optimizer's state, which later steps do not repeat.
for (let i = 0; i < 2; i++) {
  await kernelRuns.diffusion.step();
  await kernelRuns.sct.step();
}
const kernels = { diffusion: await countKernels(() => kernelRuns.diffusion.step()), sct: await countKernels(() => kernelRuns.sct!.step()) };
const cpuKernelTimes = { stock: [] as number[], fast: [] as number[] };
for (let r = 0; r < 20; r++) {
  for (const kind of ["stock", "fast"] as const) {
    useFastCpuKernels(kind === "fast");
    const start = performance.now();
    await kernelRuns.sct.step();
    cpuKernelTimes[kind].push(performance.now() - start);
  }
}
kernelRuns.diffusion.dispose();
kernelRuns.sct.dispose();

// ---- The quality runs, one per seed, on the chosen backend ----
await useBackend(backend);
const metric = new MixtureSlicedWasserstein(mixture, samples, 64);
/** Noise pair of one replicate: z1 at t_max (every sampler), z2 for sCT's second step; N(0, σd² I). */
function noise(seed: number, replicate: number): { z1: Float64Array; z2: Float64Array } {
  const { first, second } = evaluationNoise(samples, 2, 1_000 * seed + replicate);
  return { z1: first, z2: second };
}
/** The teacher's sampler: 50 Heun steps of its PF-ODE from t_max to 0 (100 network evaluations). */
const sampleOde = (run: ToyRun, z1: Float64Array) => run.sampleOdeFrom(z1, 50);
/** Consistency sampling: f at t_max, then (2 steps) re-noise with z2 at t_mid (the paper's 1.1) and apply f again. */
const sampleConsistency = (run: ToyRun, { z1, z2 }: { z1: Float64Array; z2: Float64Array }, steps: 1 | 2, tMid = T_MID) =>
  run.sampleConsistencyFrom(z1, steps === 2 ? z2 : null, tMid);

interface SeedResult {
  seed: number;
  teacher: number;
  exact: number;
  oneStep: number;
  twoStep: number;
  twoStepLowerMid: number;
  replicates: number[];
  curve: string[];
  secondsToTarget: number;
  stepsToTarget: number;
  trainingSeconds: number;
  crossing: string;
  controlTwoStep: number | null;
}

/** Teacher, then sCT from its EMA; with `control`, also sCD from the analytic F* (same start and settings). */
async function runSeed(seed: number, control: boolean): Promise<SeedResult> {
  const main = noise(seed, 0);
  const teacher = new ToyRun(mixture, { ...baseFor(seed), objective: "teacher", learningRate: 2e-3 });
  const teacherStart = performance.now();
  for (let i = 0; i < teacherSteps; i++) await teacher.step();
  stage(`seed ${seed}: teacher ${teacherSteps} steps in ${((performance.now() - teacherStart) / 1000).toFixed(0)} s`);
  const teacherMetric = metric.distance(await sampleOde(teacher, main.z1));
  const exact = metric.distance(integrate(arrayOps, exactVelocity(mixture), main.z1, uniformTimes(T_MAX, 0, 50), STEPPERS.heun));

  const student = new ToyRun(mixture, studentFor(seed), teacher.ema);
  const twoStepMetric = async (replicate = main, tMid = T_MID) => metric.distance(await sampleConsistency(student, replicate, 2, tMid));
  let trainingSeconds = 0;
  let secondsToTarget = Number.NaN;
  let stepsToTarget = 0;
  let crossing = "";
  const curve: string[] = [];
  for (let i = 1; i <= sctSteps; i++) {
    student.setLearningRate(learningRateAt(i - 1));
    const start = performance.now();
    await student.step();
    trainingSeconds += (performance.now() - start) / 1000;
    if (i % checkEvery === 0 && i < sctSteps) {
      const value = await twoStepMetric();
      if (i % (4 * checkEvery) === 0) curve.push(`${i}: ${(value / teacherMetric).toFixed(2)}`);
      if (Number.isNaN(secondsToTarget) && value <= 1.2 * teacherMetric) {
        secondsToTarget = trainingSeconds;
        stepsToTarget = i;
        // The same check on independent noise: the teacher's metric and the student's, both re-drawn.
        const other = noise(seed, 99);
        crossing = `${((await twoStepMetric(other)) / metric.distance(await sampleOde(teacher, other.z1))).toFixed(3)}`;
      }
    }
  }
  stage(`seed ${seed}: sCT ${sctSteps} steps, ${trainingSeconds.toFixed(0)} s of training`);
  const twoStep = await twoStepMetric();
  const oneStep = metric.distance(await sampleConsistency(student, main, 1));
  const twoStepLowerMid = await twoStepMetric(main, 0.9);
  const replicates: number[] = [];
  for (const r of [1, 2, 3, 4]) replicates.push((await twoStepMetric(noise(seed, r))) / teacherMetric);
  student.dispose();

  let controlTwoStep: number | null = null;
  if (control) {
    const run = new ToyRun(mixture, { ...studentFor(seed), objective: "scd" }, exactTeacher(mixture), teacher.ema);
    for (let i = 0; i < sctSteps; i++) {
      run.setLearningRate(learningRateAt(i));
      await run.step();
    }
    controlTwoStep = metric.distance(await sampleConsistency(run, main, 2));
    run.dispose();
    stage(`seed ${seed}: sCD control done`);
  }
  teacher.dispose();
  return { seed, teacher: teacherMetric, exact, oneStep, twoStep, twoStepLowerMid, replicates, curve, secondsToTarget, stepsToTarget, trainingSeconds, crossing, controlTwoStep };
}

const results: SeedResult[] = [];
for (const [i, seed] of seeds.entries()) results.push(await runSeed(seed, i === 0));

const fixed = (x: number, digits = 3) => x.toFixed(digits);
console.log(`# ring of 8 modes; MLP ${hidden}×${blocks}; seeds ${seeds.join(", ")}; backend ${backend}; teacher ${teacherSteps} steps at batch 128; sCT ${sctSteps} steps at batch ${sct.batch} (lr ${sct.learningRate}, linear decay to 0 from step ${Math.round(sct.decayFrom * sctSteps)}, warm-up ${sct.warmup}, EMA half-life ${sct.emaHalfLife} samples, c = ${sct.c}, adaptive weighting ${sct.adaptive === 1 ? "on" : "off"}, proposal (${sct.pMean}, ${sct.pStd}))`);
console.log(`# metric: exact sliced W₂ to the mixture, 64 directions, ${samples} samples from scrambled-Sobol noise shared by all samplers; floor of ${samples} atoms ${fixed(metric.floor, 4)}`);
for (const r of results) {
  const spread = Math.sqrt(r.replicates.reduce((a, b) => a + (b - mean(r.replicates)) ** 2, 0) / (r.replicates.length - 1));
  console.log(`# seed ${r.seed}: sliced W₂ teacher 100-NFE ${fixed(r.teacher, 4)}, exact ODE 100-NFE ${fixed(r.exact, 4)}, sCT 1-step ${fixed(r.oneStep, 4)}, 2-step ${fixed(r.twoStep, 4)}${r.controlTwoStep === null ? "" : `, sCD-from-F* 2-step ${fixed(r.controlTwoStep, 4)}`}`);
  console.log(`# seed ${r.seed}: 2-step / teacher on 4 more noise seeds ${r.replicates.map((v) => fixed(v)).join(", ")} (sd ${fixed(spread)}); with t_mid = 0.9 ${fixed(r.twoStepLowerMid / r.teacher)}; during training ${r.curve.join(", ")}`);
  if (r.crossing) console.log(`# seed ${r.seed}: target first met at step ${r.stepsToTarget}; the same check on independent noise: ${r.crossing}`);
}
const perSeed = (name: string, value: (r: SeedResult) => number, digits = 3) => {
  const values = results.map(value);
  for (const [i, r] of results.entries()) console.log(`${name}_seed${r.seed}: ${fixed(values[i], digits)}`);
  return values;
};
const twoStepRatios = perSeed("two_step_over_teacher", (r) => r.twoStep / r.teacher);
console.log(`two_step_over_teacher_mean: ${fixed(mean(twoStepRatios))}`);
console.log(`two_step_over_teacher_max: ${fixed(Math.max(...twoStepRatios))}`);
console.log(`one_step_over_teacher_mean: ${fixed(mean(results.map((r) => r.oneStep / r.teacher)))}`);
console.log(`two_step_over_exact_ode_mean: ${fixed(mean(results.map((r) => r.twoStep / r.exact)))}`);
const toTarget = results.map((r) => r.secondsToTarget);
for (const r of results) console.log(`sct_seconds_to_target_seed${r.seed}: ${Number.isNaN(r.secondsToTarget) ? `not reached in ${r.trainingSeconds.toFixed(0)} s` : fixed(r.secondsToTarget, 1)}`);
console.log(`sct_seconds_to_target_max: ${toTarget.some(Number.isNaN) ? "not reached on every seed" : fixed(Math.max(...toTarget), 1)}`);
console.log(`scd_exact_two_step_over_teacher_seed${results[0].seed}: ${fixed(results[0].controlTwoStep! / results[0].teacher)}`);
for (const b of TOY_BACKENDS) console.log(`sct_step_ms_${b}: ${fixed(sctMs(b), 1)}`);
for (const b of TOY_BACKENDS) console.log(`diffusion_step_ms_${b}: ${fixed(median(stepTimes[b].diffusion), 1)}`);
console.log(`sct_step_cpu_over_wasm: ${fixed(sctMs("cpu") / sctMs("wasm"), 2)}`);
console.log(`sct_step_over_diffusion_step_mlp: ${fixed(sctMs(backend) / median(stepTimes[backend].diffusion))}`);
console.log(`kernels_per_diffusion_step_mlp: ${kernels.diffusion.total}`);
console.log(`kernels_per_sct_step_mlp: ${kernels.sct.total}`);
console.log(`# sCT step kernels by name: ${describeKernelCount(kernels.sct)}`);
console.log(`sct_step_stock_over_fast_cpu_kernels: ${fixed(median(cpuKernelTimes.stock) / median(cpuKernelTimes.fast), 2)}`);
