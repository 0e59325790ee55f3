/**
 * npm run bench:toy [-- --seed 0 --teacher-steps 2000 --sct-steps 2000 --sct-batch 512 --adaptive 0 --samples 4096 --check-every 25]
 *
 * One run on a fixed preset (ring of 8 modes): train a TrigFlow teacher, then sCT from its EMA, and compare
 * exact sample quality measured in the same run. Prints `name: value` lines:
 *   two_step_over_teacher      2-step sCT (t_mid = 1.1) / teacher's 100-NFE ODE samples (goal ≤ 1.05)
 *   one_step_over_teacher      1-step sCT / the same
 *   two_step_over_exact_ode    2-step sCT / 100-NFE samples of the analytic ODE
 *   sct_seconds_to_target      training seconds until sCT's 2-step metric is within 1.2× the teacher's (goal ≤ 10)
 *   sct_step_over_diffusion_step_mlp   one sCT step / one diffusion step, timed interleaved
 *   scd_exact_two_step_over_teacher    the control: the same student trained by sCD from the analytic F*
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
 * teacher's EMA: 2000 steps at batch 512, lr 2e-3 held for the first half and decayed linearly to 0 over the
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
 * Measured with these settings (seeds 0/1/2/3): 0.908 / 1.004 / 1.177 / 1.100; sCT's own 2-step metric is
 * 0.023–0.025 on every seed, the teacher's moves between 0.021 and 0.025. With w(t) on and 500 steps:
 * 1.256 / 1.216 / 1.501 (seeds 0–2); on and 1200 steps: 1.168 (seed 0).
 * Also tried (seed 0, ratio at the end; the first settings — batch 128, constant lr 1e-3, EMA 10k, 800 steps,
 * w(t) on — gave 1.22 / 1.48 / 1.62 for seeds 0/1/2): batch 128 with EMA 50k 1.31 after 1600 steps; c = 0.1 1.92
 * (best 1.30 at 800); batch 512 constant lr 1e-3, EMA 100k 1.31 after 800; batch 1024 lr 2e-3 1.99 after 400
 * (against a teacher trained at batch 1024, 0.0151); a 2×64 MLP at batch 128 oscillated between 1.5 and 2.5 over
 * 2000 steps; at batch 512 with w(t) a 1×64 MLP ended at 1.34 and a 2×32 at 1.65 (their teachers are better:
 * 0.0184 and 0.0140 against 0.025, and sCT does not keep up).
 */
import * as tf from "@tensorflow/tfjs";
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
import { parseCommandLine } from "../options.ts";
import { countKernels, describeKernelCount } from "../../src/components/runtime/kernel-count.ts";

const args = parseCommandLine("bench:toy", { seed: "value", "teacher-steps": "value", "sct-steps": "value", samples: "value", "check-every": "value", hidden: "value", blocks: "value", "sct-batch": "value", lr: "value", "decay-from": "value", warmup: "value", ema: "value", c: "value", adaptive: "value", "p-mean": "value", "p-std": "value" });
const option = (name: string, fallback: number) => Number(args.get(name) ?? fallback);
// Defaults sized to finish in about seven minutes on TF.js's CPU backend in Node (with cpu-kernels.ts), where a
// 1×32 MLP takes ~15 ms per teacher step at batch 128 and ~70 ms per sCT step at batch 512:
// teacher ≈ 30 s, its 100-NFE ODE on 4096 points ≈ 25 s, sCT ≈ 150 s, the checks ≈ 30 s, the sCD control ≈ 150 s.
const seed = option("seed", 0);
const teacherSteps = option("teacher-steps", 2000);
const sctSteps = option("sct-steps", 2000);
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

await tf.setBackend("cpu");
useFastCpuKernels();
const mixture = mixturePreset("ring", { modes: 8, spread: 0.06 });
const base: ToyRunConfig = {
  ...DEFAULT_TOY_RUN,
  network: { hidden, blocks, groups: 4, timeEmbedding: { kind: "positional", dim: 16 } },
  batch: 128,
  emaHalfLife: 10_000,
  seed,
};

// ---- The metric and the shared starting noise ----
const metric = new MixtureSlicedWasserstein(mixture, samples, 64);
/** Noise pair of one replicate: z1 at t_max (every sampler), z2 for sCT's second step; N(0, σd² I). */
function noise(replicate: number): { z1: Float64Array; z2: Float64Array } {
  const { first, second } = evaluationNoise(samples, 2, 1_000 * seed + replicate);
  return { z1: first, z2: second };
}
/** The teacher's sampler: 50 Heun steps of its PF-ODE from t_max to 0 (100 network evaluations). */
const sampleOde = (run: ToyRun, z1: Float64Array) => run.sampleOdeFrom(z1, 50);
/** Consistency sampling: f at t_max, then (2 steps) re-noise with z2 at t_mid (the paper's 1.1) and apply f again. */
const sampleConsistency = (run: ToyRun, { z1, z2 }: { z1: Float64Array; z2: Float64Array }, steps: 1 | 2, tMid = T_MID) =>
  run.sampleConsistencyFrom(z1, steps === 2 ? z2 : null, tMid);

const stage = (message: string) => process.stderr.write(`${message}\n`);
const main = noise(0);

// ---- Teacher ----
const teacher = new ToyRun(mixture, { ...base, objective: "teacher", learningRate: 2e-3 });
const teacherStart = performance.now();
for (let i = 0; i < teacherSteps; i++) await teacher.step();
stage(`teacher: ${teacherSteps} steps in ${((performance.now() - teacherStart) / 1000).toFixed(0)} s`);
const teacherMetric = metric.distance(await sampleOde(teacher, main.z1));
const exactMetric = metric.distance(integrate(arrayOps, exactVelocity(mixture), main.z1, uniformTimes(T_MAX, 0, 50), STEPPERS.heun));
stage(`teacher 100-NFE: ${teacherMetric.toFixed(4)}`);

// ---- sCT from the teacher's EMA (and the control: sCD from the analytic F*, same start and settings) ----
const studentConfig: ToyRunConfig = {
  ...base,
  objective: "sct",
  batch: sct.batch,
  learningRate: sct.learningRate,
  emaHalfLife: sct.emaHalfLife,
  proposal: { pMean: sct.pMean, pStd: sct.pStd },
  scm: { ...base.scm, warmupIterations: sct.warmup, normalization: { kind: "l2", c: sct.c }, adaptiveWeighting: sct.adaptive === 1 },
};
/** Linear decay of the lr to 0 at the last step, from the fraction `decayFrom` of the run on. */
const learningRateAt = (step: number) => sct.learningRate * Math.min(1, (sctSteps - step) / ((1 - sct.decayFrom) * sctSteps));
const student = new ToyRun(mixture, studentConfig, teacher.ema);
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
      const other = noise(99);
      crossing = `${((await twoStepMetric(other)) / metric.distance(await sampleOde(teacher, other.z1))).toFixed(3)}`;
    }
  }
}
stage(`sCT: ${sctSteps} steps, ${trainingSeconds.toFixed(0)} s of training`);
const twoStep = await twoStepMetric();
const oneStep = metric.distance(await sampleConsistency(student, main, 1));
const twoStepLowerMid = await twoStepMetric(main, 0.9);
const replicates: number[] = [];
for (const r of [1, 2, 3, 4]) replicates.push((await twoStepMetric(noise(r))) / teacherMetric);
const mean = replicates.reduce((a, b) => a + b, 0) / replicates.length;
const spread = Math.sqrt(replicates.reduce((a, b) => a + (b - mean) ** 2, 0) / (replicates.length - 1));

const control = new ToyRun(mixture, { ...studentConfig, objective: "scd" }, exactTeacher(mixture), teacher.ema);
for (let i = 0; i < sctSteps; i++) {
  control.setLearningRate(learningRateAt(i));
  await control.step();
}
const controlTwoStep = metric.distance(await sampleConsistency(control, main, 2));
control.dispose();
stage("sCD control: done");

// Step cost, interleaved: a diffusion step of the teacher and an sCT step of the student (same network and
// batch: the teacher's batch is raised to the student's for this comparison).
const timedTeacher = new ToyRun(mixture, { ...base, objective: "teacher", batch: sct.batch });
const stepTimes = { sct: [] as number[], diffusion: [] as number[] };
for (let r = 0; r < 20; r++) {
  let start = performance.now();
  await timedTeacher.step();
  stepTimes.diffusion.push(performance.now() - start);
  start = performance.now();
  await student.step();
  stepTimes.sct.push(performance.now() - start);
}
// Kernels per step, counted on one more step of each (hardware-independent: what a GPU would dispatch).
const kernels = { diffusion: await countKernels(() => timedTeacher.step()), sct: await countKernels(() => student.step()) };
timedTeacher.dispose();
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
// The same sCT step with TF.js's own CPU kernels and with cpu-kernels.ts's strided ones, interleaved. The
// results are bit-identical (test/cpu-kernels.test.ts), so switching kernels mid-run changes nothing else.
const kernelTimes = { stock: [] as number[], fast: [] as number[] };
for (let r = 0; r < 20; r++) {
  for (const kind of ["stock", "fast"] as const) {
    useFastCpuKernels(kind === "fast");
    const start = performance.now();
    await student.step();
    kernelTimes[kind].push(performance.now() - start);
  }
}

console.log(`# ring of 8 modes; MLP ${hidden}×${blocks}; seed ${seed}; teacher ${teacherSteps} steps at batch ${base.batch}; sCT ${sctSteps} steps at batch ${sct.batch} (lr ${sct.learningRate}, linear decay to 0 from step ${Math.round(sct.decayFrom * sctSteps)}, warm-up ${sct.warmup}, EMA half-life ${sct.emaHalfLife} samples, c = ${sct.c}, adaptive weighting ${sct.adaptive === 1 ? "on" : "off"}, proposal (${sct.pMean}, ${sct.pStd}))`);
console.log(`# metric: exact sliced W₂ to the mixture, 64 directions, ${samples} samples from scrambled-Sobol noise shared by all samplers; floor of ${samples} atoms ${metric.floor.toFixed(4)}`);
console.log(`# sliced W₂: teacher 100-NFE ${teacherMetric.toFixed(4)}, exact ODE 100-NFE ${exactMetric.toFixed(4)}, sCT 1-step ${oneStep.toFixed(4)}, 2-step ${twoStep.toFixed(4)}, sCD-from-F* 2-step ${controlTwoStep.toFixed(4)}`);
console.log(`# 2-step / teacher on 4 more noise seeds: ${replicates.map((v) => v.toFixed(3)).join(", ")} (sd ${spread.toFixed(3)})`);
console.log(`# 2-step / teacher during training (step: ratio): ${curve.join(", ")}`);
console.log(`# 2-step with t_mid = 0.9 instead of the paper's 1.1 (not a goal line; the same model): ${(twoStepLowerMid / teacherMetric).toFixed(3)}`);
if (crossing) console.log(`# target first met at step ${stepsToTarget}; the same check on independent noise: ${crossing}`);
console.log(`two_step_over_teacher: ${(twoStep / teacherMetric).toFixed(3)}`);
console.log(`one_step_over_teacher: ${(oneStep / teacherMetric).toFixed(3)}`);
console.log(`two_step_over_exact_ode: ${(twoStep / exactMetric).toFixed(3)}`);
console.log(`sct_seconds_to_target: ${Number.isNaN(secondsToTarget) ? `not reached in ${trainingSeconds.toFixed(0)} s` : secondsToTarget.toFixed(1)}`);
console.log(`sct_step_over_diffusion_step_mlp: ${(median(stepTimes.sct) / median(stepTimes.diffusion)).toFixed(3)}`);
console.log(`scd_exact_two_step_over_teacher: ${(controlTwoStep / teacherMetric).toFixed(3)}`);
console.log(`kernels_per_diffusion_step_mlp: ${kernels.diffusion.total}`);
console.log(`kernels_per_sct_step_mlp: ${kernels.sct.total}`);
console.log(`# sCT step kernels by name: ${describeKernelCount(kernels.sct)}`);
console.log(`sct_step_stock_over_fast_cpu_kernels: ${(median(kernelTimes.stock) / median(kernelTimes.fast)).toFixed(2)}`);
teacher.dispose();
student.dispose();
