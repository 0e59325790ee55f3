/**
 * Gaussian-mixture data, for which TrigFlow's probability-flow ODE is known in closed form.
 *
 * Data p(x0) = Σ_k π_k N(μ_k, s_k² I) in any dimension d. Under x_t = cos t·x0 + sin t·z, z ~ N(0, σd² I),
 * component k gives x_t ~ N(cos t·μ_k, v_k(t) I) with v_k(t) = cos²t·s_k² + sin²t·σd². Gaussian
 * conditioning gives, given x_t and component k,
 *   E[x0 | x_t, k] = μ_k + cos t·s_k²/v_k·(x_t − cos t·μ_k),   E[z | x_t, k] = sin t·σd²/v_k·(x_t − cos t·μ_k).
 * The PF-ODE velocity is the posterior mean of the conditional velocity cos t·z − sin t·x0 (Eq. 4):
 *   v*(x_t, t) = Σ_k w_k(x_t)·[ −sin t·μ_k + cos t·sin t·(σd² − s_k²)/v_k·(x_t − cos t·μ_k) ],
 * with posterior weights w_k ∝ π_k N(x_t; cos t·μ_k, v_k I). So F* = v* / σd is the network an infinitely
 * well-trained diffusion model would be, and integrating v* to t = 0 gives the ideal consistency function.
 */
import type { Rng } from "../math/rng.js";
import { SIGMA_D } from "./trigflow.js";
import { solveAdaptive, type AdaptiveOptions, type FlowFunction, type VelocityField } from "./ode-solvers.js";
import { arrayOps } from "../math/linear-ops.js";
import type { ConsistencyFn } from "./consistency-sampling.js";

export interface GaussianMixture {
  dim: number;
  /** mixture weights π_k, summing to 1 */
  weights: number[];
  /** component means μ_k, each of length dim */
  means: number[][];
  /** isotropic component standard deviations s_k > 0 */
  stds: number[];
}

export function createMixture(means: number[][], stds: number[] | number, weights?: number[]): GaussianMixture {
  const K = means.length;
  if (K === 0) throw new RangeError("a mixture needs at least one component");
  const dim = means[0].length;
  if (means.some((m) => m.length !== dim)) throw new RangeError("all means must have the same dimension");
  const s = typeof stds === "number" ? new Array<number>(K).fill(stds) : stds;
  if (s.length !== K || s.some((v) => !(v > 0))) throw new RangeError("each component needs a std > 0");
  const w = weights ?? new Array<number>(K).fill(1);
  if (w.length !== K || w.some((v) => !(v >= 0))) throw new RangeError("weights must be K non-negative numbers");
  const total = w.reduce((a, b) => a + b, 0);
  if (!(total > 0)) throw new RangeError("weights must not all be zero");
  return { dim, weights: w.map((v) => v / total), means: means.map((m) => [...m]), stds: [...s] };
}

/** Draw n points; `points` is flat (n·dim), `components` says which mode each came from. */
export function sampleMixture(mix: GaussianMixture, n: number, rng: Rng): { points: Float64Array; components: Int32Array } {
  const points = new Float64Array(n * mix.dim);
  const components = new Int32Array(n);
  const cumulative = mix.weights.map(((sum) => (w: number) => (sum += w))(0));
  for (let i = 0; i < n; i++) {
    const u = rng.uniform();
    let k = cumulative.findIndex((c) => u < c);
    if (k < 0) k = mix.weights.length - 1;
    components[i] = k;
    for (let j = 0; j < mix.dim; j++) points[i * mix.dim + j] = mix.means[k][j] + mix.stds[k] * rng.normal();
  }
  return { points, components };
}

/** Mean and per-coordinate standard deviation of the data distribution (exact, not sampled). */
export function mixtureMoments(mix: GaussianMixture): { mean: number[]; std: number[] } {
  const mean = Array.from({ length: mix.dim }, (_, j) => mix.weights.reduce((a, w, k) => a + w * mix.means[k][j], 0));
  const std = mean.map((m, j) =>
    Math.sqrt(mix.weights.reduce((a, w, k) => a + w * (mix.stds[k] ** 2 + (mix.means[k][j] - m) ** 2), 0)),
  );
  return { mean, std };
}

/** Component variances of the marginal at time t: v_k(t) = cos²t·s_k² + sin²t·σd². */
export function marginalVariances(mix: GaussianMixture, t: number, sigmaD = SIGMA_D): number[] {
  const c = Math.cos(t);
  const s = Math.sin(t);
  return mix.stds.map((sk) => c * c * sk * sk + s * s * sigmaD * sigmaD);
}

/**
 * For point i of a flat batch, fill `logWeights` with log π_k + log N(x_t; cos t·μ_k, v_k I) and
 * return their log-sum-exp, i.e. log p_t(x_t).
 */
function componentLogDensities(
  mix: GaussianMixture,
  x: Float64Array,
  i: number,
  t: number,
  variances: number[],
  logWeights: Float64Array,
): number {
  const c = Math.cos(t);
  const d = mix.dim;
  let max = -Infinity;
  for (let k = 0; k < mix.weights.length; k++) {
    let sq = 0;
    for (let j = 0; j < d; j++) {
      const r = x[i * d + j] - c * mix.means[k][j];
      sq += r * r;
    }
    const lw = Math.log(mix.weights[k]) - 0.5 * d * Math.log(2 * Math.PI * variances[k]) - sq / (2 * variances[k]);
    logWeights[k] = lw;
    if (lw > max) max = lw;
  }
  let sum = 0;
  for (let k = 0; k < logWeights.length; k++) sum += Math.exp(logWeights[k] - max);
  return max + Math.log(sum);
}

/** log p_t(x) of the marginal at time t, for every point of a flat batch. */
export function marginalLogDensity(mix: GaussianMixture, x: Float64Array, t: number, sigmaD = SIGMA_D): Float64Array {
  const variances = marginalVariances(mix, t, sigmaD);
  const logWeights = new Float64Array(mix.weights.length);
  const n = x.length / mix.dim;
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = componentLogDensities(mix, x, i, t, variances, logWeights);
  return out;
}

/**
 * Posterior expectations a·E[x0 | x_t] + b·E[z | x_t] for every point, which covers the denoiser (a=1, b=0)
 * and the velocity (a = −sin t, b = cos t).
 */
function posteriorCombination(mix: GaussianMixture, x: Float64Array, t: number, a: number, b: number, sigmaD: number): Float64Array {
  const c = Math.cos(t);
  const s = Math.sin(t);
  const d = mix.dim;
  const K = mix.weights.length;
  const variances = marginalVariances(mix, t, sigmaD);
  const logWeights = new Float64Array(K);
  const out = new Float64Array(x.length);
  for (let i = 0; i < x.length / d; i++) {
    const logNormalizer = componentLogDensities(mix, x, i, t, variances, logWeights);
    for (let k = 0; k < K; k++) {
      const w = Math.exp(logWeights[k] - logNormalizer);
      if (w === 0) continue;
      const gainX0 = (c * mix.stds[k] ** 2) / variances[k];
      const gainZ = (s * sigmaD * sigmaD) / variances[k];
      for (let j = 0; j < d; j++) {
        const mu = mix.means[k][j];
        const residual = x[i * d + j] - c * mu;
        out[i * d + j] += w * (a * (mu + gainX0 * residual) + b * gainZ * residual);
      }
    }
  }
  return out;
}

/** The exact PF-ODE velocity v*(x_t, t) = E[cos t·z − sin t·x0 | x_t] = σd·F*(x_t/σd, t). */
export function exactVelocity(mix: GaussianMixture, sigmaD = SIGMA_D): VelocityField<Float64Array> {
  return (x, t) => posteriorCombination(mix, x, t, -Math.sin(t), Math.cos(t), sigmaD);
}

/** The exact network F*(u, t) = v*(σd·u, t)/σd, in the same convention as a trained F (Eq. 3). */
export function exactFlowNetwork(mix: GaussianMixture, sigmaD = SIGMA_D): FlowFunction<Float64Array> {
  const velocity = exactVelocity(mix, sigmaD);
  return (u, t) => arrayOps.combine([[1 / sigmaD, velocity(arrayOps.combine([[sigmaD, u]]), t)]]);
}

/** The ideal denoiser E[x0 | x_t]: where diffusion models point, which is *not* the trajectory's end. */
export function posteriorMeanX0(mix: GaussianMixture, sigmaD = SIGMA_D): ConsistencyFn<Float64Array> {
  return (x, t) => posteriorCombination(mix, x, t, 1, 0, sigmaD);
}

/**
 * The ideal consistency function f*(x_t, t): integrate the exact PF-ODE from t down to 0 with the
 * adaptive reference solver. Every point of one trajectory maps to the same x0.
 */
export function idealConsistencyFunction(
  mix: GaussianMixture,
  sigmaD = SIGMA_D,
  options: AdaptiveOptions = {},
): ConsistencyFn<Float64Array> {
  const velocity = exactVelocity(mix, sigmaD);
  return (x, t) => solveAdaptive(arrayOps, velocity, x, t, 0, options).x;
}
