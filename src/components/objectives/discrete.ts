/**
 * Discrete-time consistency models in TrigFlow form (App. E, Alg. 2): the tangent of sCM with the time
 * derivative replaced by a finite difference over one step of the teacher's DDIM solver. As the grid gets
 * finer (N → ∞) it tends to the continuous tangent, which page "continuous vs discrete" measures.
 *
 * Precision (§4.2, Fig. 5c, App. E.2: quality degrades for N > 1024, which the paper puts down to precision): the
 * tangent is a difference of two nearly equal network outputs divided by sin(t − t'), so every rounding error of
 * F⁻ is amplified by 1/sin(t − t') ∝ N. With `precision: "half"` the targets are computed as in fp16 (inputs,
 * teacher pass and DDIM step, both student passes, the arithmetic of g), which makes that loss visible; the
 * normalisation, the loss and its gradient stay float32, as in scm.ts.
 */
import * as tf from "@tensorflow/tfjs";
import type { FlowNetwork } from "../nn/network.js";
import { arithmeticFor, FLOAT32_ARITHMETIC, type Arithmetic, type Precision } from "../nn/half-precision.js";
import { normalizeTangent, tangentNorms, warmupFactor, type ScmBatch, type ScmTargets, type TangentNormalization } from "./scm.js";
import { SIGMA_D, SIGMA_MAX } from "../trigflow/trigflow.js";
import { diffuseBatch, perSample } from "../trigflow/trigflow-batch.js";
import type { Rng } from "../math/rng.js";
import type { TimeProposal } from "../trigflow/time-proposal.js";

/**
 * EDM/Karras grid with N intervals mapped to TrigFlow time: σ_i = (σ_min^{1/ρ} + i/N·(σ_max^{1/ρ} − σ_min^{1/ρ}))^ρ,
 * t_i = arctan(σ_i/σd), i = 0…N, increasing (App. E.2).
 */
export function discreteTimeGrid(N: number, { sigmaMin = 0.002, sigmaMax = SIGMA_MAX, rho = 7, sigmaD = SIGMA_D } = {}): number[] {
  const lo = sigmaMin ** (1 / rho);
  const hi = sigmaMax ** (1 / rho);
  return Array.from({ length: N + 1 }, (_, i) => Math.atan((lo + (i / N) * (hi - lo)) ** rho / sigmaD));
}

/**
 * The teacher's DDIM step from t down to t' (Eq. 26): x_{t'} = cos(t − t')·x_t − σd·sin(t − t')·F_pre(x_t/σd, t),
 * in arithmetic `a` (float32 by default, or simulated fp16).
 */
export function teacherDdimStep(xt: tf.Tensor, t: tf.Tensor, tPrime: tf.Tensor, Fteacher: tf.Tensor, sigmaD = SIGMA_D, a: Arithmetic = FLOAT32_ARITHMETIC): tf.Tensor {
  return tf.tidy(() => {
    const gap = perSample(a.sub(t, tPrime), xt.rank);
    return a.sub(a.mul(a.cos(gap), xt), a.mul(a.mul(a.sin(gap), sigmaD), Fteacher));
  });
}

export interface DiscreteTangentInputs {
  xt: tf.Tensor;
  t: tf.Tensor;
  tPrime: tf.Tensor;
  /** F⁻(x_t/σd, t), stop-gradient */
  FminusAtT: tf.Tensor;
  /** F⁻(x_{t'}/σd, t'), stop-gradient, at the teacher's DDIM point */
  FminusAtTPrime: tf.Tensor;
  /** F_pre(x_t/σd, t), the teacher */
  Fteacher: tf.Tensor;
  warmup: number;
  sigmaD?: number;
  /** the arithmetic of g: float32 (default) or simulated fp16 */
  arithmetic?: Arithmetic;
}

/**
 * g = cos t·Δ with Eq. 37,
 *   Δ = −cos t'·(σd F⁻(x_t,t) − σd F_pre(x_t,t)) − r·sin t'·[x_t + σd·(cos(t − t')·F⁻(x_t,t) − F⁻(x_{t'},t'))/sin(t − t')],
 * which at r = 1 equals [f⁻(x_t, t) − f⁻(x_{t'}, t')]/sin(t − t') exactly: the difference is divided by
 * sin(t − t'), not by (t − t') (App. E).
 */
export function discreteTangent({ xt, t, tPrime, FminusAtT, FminusAtTPrime, Fteacher, warmup, sigmaD = SIGMA_D, arithmetic: a = FLOAT32_ARITHMETIC }: DiscreteTangentInputs): tf.Tensor {
  return tf.tidy(() => {
    const r = xt.rank;
    // t − t' from the times as given (in fp16, the rounded ones): the same gap as the DDIM step's.
    const gap = perSample(a.sub(t, tPrime), r);
    const cosPrime = perSample(a.cos(tPrime), r);
    const sinPrime = perSample(a.sin(tPrime), r);
    const mismatch = a.mul(a.neg(cosPrime), a.mul(a.sub(FminusAtT, Fteacher), sigmaD));
    // The finite difference: in fp16 its numerator keeps few correct digits, and 1/sin(t − t') amplifies them.
    const difference = a.div(a.sub(a.mul(a.cos(gap), FminusAtT), FminusAtTPrime), a.sin(gap));
    const second = a.mul(-warmup, a.mul(sinPrime, a.add(xt, a.mul(difference, sigmaD))));
    return a.mul(perSample(a.cos(t), r), a.add(mismatch, second));
  });
}

export interface DiscreteTargetSettings {
  /** the teacher whose DDIM step gives x_{t'} (evaluated without dropout) */
  teacher: FlowNetwork;
  normalization: TangentNormalization;
  warmupIterations: number;
  sigmaD?: number;
  /** the precision of the target computation, up to g before normalisation (default float32; see above) */
  precision?: Precision;
}

/**
 * The discrete counterpart of scmTargets (Alg. 2): one teacher DDIM step from t to t', the student's F⁻ at
 * both ends with the same dropout seed, and the finite-difference tangent of Eq. 37, normalised as in sCM.
 *
 * A pair whose times coincide once rounded (t = t' in fp16: near t_max at any N, about one drawn pair in ten at
 * N = 4096) has no finite difference (0/0): its tangent is set to 0, so the sample only pulls F toward F⁻,
 * instead of a NaN ending the run. In float32 the times of a grid (N ≤ 4096 here) never coincide: no change.
 */
export function discreteTargets(net: FlowNetwork, batch: ScmBatch, iteration: number, dropoutSeed: number, settings: DiscreteTargetSettings): ScmTargets {
  const sigmaD = settings.sigmaD ?? SIGMA_D;
  if (!batch.tPrime) throw new Error("the discrete-time objective needs the previous grid time t'");
  const a = arithmeticFor(settings.precision);
  return tf.tidy(() => {
    // Identity in float32; in half precision, the batch as an fp16 GPU would hold it, t and t' included: at
    // large N they are closer than fp16's spacing resolves, which is real (App. E.2).
    const [x0, z, t, tPrime] = [batch.x0, batch.z, batch.t, batch.tPrime!].map((x) => a.round(x));
    const xt = diffuseBatch(x0, z, t, a);
    const u = a.div(xt, sigmaD);
    const Fteacher = a.round(settings.teacher.apply(a.plain, u, t));
    const xtPrime = teacherDdimStep(xt, t, tPrime, Fteacher, sigmaD, a);
    const Fminus = a.round(net.apply(a.plain, u, t, { dropoutSeed }));
    const FminusAtTPrime = a.round(net.apply(a.plain, a.div(xtPrime, sigmaD), tPrime, { dropoutSeed }));
    const warmup = warmupFactor(iteration, settings.warmupIterations);
    const raw = discreteTangent({ xt, t, tPrime, FminusAtT: Fminus, FminusAtTPrime, Fteacher, warmup, sigmaD, arithmetic: a });
    const resolved = tf.broadcastTo(perSample(tf.greater(t, tPrime), raw.rank), raw.shape);
    const g = tf.where(resolved, raw, tf.zerosLike(raw));
    return { u, Fminus, g: normalizeTangent(g, settings.normalization), tangentNorms: tangentNorms(g) };
  });
}

/** Standard normal CDF via erf (Abramowitz & Stegun 7.1.26, absolute error < 1.5e-7). */
export function normalCdf(x: number): number {
  const z = Math.abs(x) / Math.SQRT2;
  const k = 1 / (1 + 0.3275911 * z);
  const erf = 1 - ((((1.061405429 * k - 1.453152027) * k + 1.421413741) * k - 0.284496736) * k + 0.254829592) * k * Math.exp(-z * z);
  return 0.5 * (1 + Math.sign(x) * erf);
}

/**
 * Probability of each grid interval (t_{i−1}, t_i], i = 1…N, under the log-normal proposal on σ = σd tan t:
 * the categorical distribution that discretises the continuous proposal (App. E.2).
 */
export function discreteTimeProbabilities(grid: readonly number[], proposal: TimeProposal, sigmaD = SIGMA_D): number[] {
  const cdf = (t: number) => normalCdf((Math.log(sigmaD * Math.tan(t)) - proposal.pMean) / proposal.pStd);
  const mass = grid.slice(1).map((t, i) => cdf(t) - cdf(grid[i]));
  const total = mass.reduce((a, b) => a + b, 0);
  return mass.map((m) => m / total);
}

/** Draw n training pairs (t, t') = (t_i, t_{i−1}) from the discretised proposal. */
export function sampleDiscreteTimePairs(rng: Rng, grid: readonly number[], probabilities: readonly number[], n: number): { t: number[]; tPrime: number[] } {
  const cumulative = probabilities.map(((sum) => (p: number) => (sum += p))(0));
  const t: number[] = [];
  const tPrime: number[] = [];
  for (let k = 0; k < n; k++) {
    const u = rng.uniform();
    let i = cumulative.findIndex((c) => u < c);
    if (i < 0) i = probabilities.length - 1;
    t.push(grid[i + 1]);
    tPrime.push(grid[i]);
  }
  return { t, tPrime };
}
