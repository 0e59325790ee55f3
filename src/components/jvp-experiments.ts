/**
 * The computations behind the "JVP and numerical stability" page: where sin t·∂F/∂t is large, what half
 * precision does to the naive and the rearranged JVP, and how finite differences trade truncation for
 * round-off. Every function takes a network and plain inputs and returns plain numbers for plotting.
 *
 * Results are read with `await tensor.data()`, several at once, never with dataSync(): on WebGPU a synchronous
 * read goes through a canvas, which in a worker or on SwiftShader returns zeros and loses the device.
 */
import * as tf from "@tensorflow/tfjs";
import { dual, dualAlgebra } from "./nn/algebra.js";
import { halfPrecision, roundToHalf } from "./nn/half-precision.js";
import { finiteDifferenceJvp, jvp, type FlowNetwork } from "./nn/network.js";
import { SIGMA_D } from "./trigflow.js";
import { exactFlowNetwork, type GaussianMixture } from "./gaussian-mixture.js";

/** Repeat a batch [n, …] once per time: rows ordered time-major, with the matching [n·T] time vector. */
function tileOverTimes(x: tf.Tensor, times: readonly number[]): { rows: tf.Tensor; t: tf.Tensor } {
  const n = x.shape[0];
  return {
    rows: tf.concat(times.map(() => x), 0),
    t: tf.tensor1d(times.flatMap((t) => new Array<number>(n).fill(t))),
  };
}

/** Read several tensors in parallel (one wait for the GPU, not one per tensor), then dispose them. */
export async function readAndDispose(tensors: readonly tf.Tensor[]): Promise<Float32Array[]> {
  try {
    return (await Promise.all(tensors.map((x) => x.data()))) as Float32Array[];
  } finally {
    tf.dispose(tensors as tf.Tensor[]);
  }
}

/**
 * RMS over a batch of u of sin t·∂F/∂t, the term the paper blames for unstable training (Eq. 7): one JVP
 * with tangent (u̇, ṫ) = (0, 1) per row, all times in one batch.
 */
export async function timeDerivativeProfile(net: FlowNetwork, u: tf.Tensor, times: readonly number[]): Promise<{ t: number; value: number }[]> {
  const rmsPerTime = tf.tidy(() => {
    const { rows, t } = tileOverTimes(u, times);
    const { tangent } = jvp(net, rows, t, tf.zerosLike(rows), tf.onesLike(t));
    return tf.sqrt(tf.mean(tf.square(tf.reshape(tangent, [times.length, -1])), 1));
  });
  const [rms] = await readAndDispose([rmsPerTime]);
  return times.map((t, i) => ({ t, value: Math.sin(t) * rms[i] }));
}

export type JvpForm = "naive" | "rearranged";

export interface HalfPrecisionRow {
  t: number;
  form: JvpForm;
  /** largest |JVP output| over the batch in fp16 (Infinity once it overflowed) */
  maxJvp: number;
  /** largest |σd·cos t·sin t·dF/dt| over the batch, as computed in fp16 */
  maxTerm: number;
  /** the same term computed in float32, for reference */
  maxTermFloat32: number;
  /** fraction of entries of the term that are finite */
  finiteFraction: number;
}

/**
 * The JVP term of the sCM tangent, σd·cos t·sin t·dF/dt (Alg. 1), computed entirely in simulated fp16
 * along sCT's path (x_t = cos t·x0 + sin t·z, dx/dt = cos t·z − sin t·x0), in two forms (§5.1):
 * - naive: tangent (dx/dt/σd, 1) gives dF/dt, multiplied by σd cos t sin t afterwards;
 * - rearranged: tangent (cos t sin t·dx/dt/σd, cos t sin t) gives cos t sin t·dF/dt directly.
 * The two are equal in exact arithmetic; in fp16 the naive intermediate can exceed 65504 and overflow.
 */
export async function halfPrecisionJvpTerm(net: FlowNetwork, x0: tf.Tensor, z: tf.Tensor, times: readonly number[], form: JvpForm, sigmaD = SIGMA_D): Promise<HalfPrecisionRow[]> {
  const n = x0.shape[0];
  const perRow = (f: (t: number) => number) => tf.tensor(times.flatMap((t) => new Array<number>(n).fill(f(t))), [n * times.length, ...new Array(x0.rank - 1).fill(1)]);
  const results = tf.tidy(() => {
    const { rows: x0s, t } = tileOverTimes(x0, times);
    const { rows: zs } = tileOverTimes(z, times);
    const cos = perRow(Math.cos);
    const sin = perRow(Math.sin);
    const cs = tf.mul(cos, sin);
    const xt = tf.add(tf.mul(cos, x0s), tf.mul(sin, zs));
    const dxdt = tf.sub(tf.mul(cos, zs), tf.mul(sin, x0s));
    const u = tf.div(xt, sigmaD);
    const uDot = form === "naive" ? tf.div(dxdt, sigmaD) : tf.div(tf.mul(cs, dxdt), sigmaD);
    const tDot = form === "naive" ? tf.onesLike(t) : tf.reshape(cs, [-1]);
    const half = net.apply(halfPrecision(dualAlgebra), dual(roundToHalf(u), roundToHalf(uDot)), dual(roundToHalf(t), roundToHalf(tDot)));
    const full = net.apply(dualAlgebra, dual(u, uDot), dual(t, tDot));
    // Finish the term in fp16 as well: naive multiplies by σd·cos t·sin t now, rearranged only by σd.
    const halfTerm = form === "naive" ? roundToHalf(tf.mul(roundToHalf(tf.mul(cs, sigmaD)), half.tangent)) : roundToHalf(tf.mul(half.tangent, sigmaD));
    const fullTerm = form === "naive" ? tf.mul(tf.mul(cs, sigmaD), full.tangent) : tf.mul(full.tangent, sigmaD);
    const perTime = (x: tf.Tensor) => tf.reshape(x, [times.length, -1]);
    const finite = tf.cast(tf.isFinite(perTime(halfTerm)), "float32");
    // NaN-safe maxima: a non-finite entry counts as Infinity.
    const maxAbs = (x: tf.Tensor) => tf.max(tf.where(tf.isFinite(perTime(x)), tf.abs(perTime(x)), tf.fill(perTime(x).shape, Infinity)), 1);
    return [maxAbs(half.tangent), maxAbs(halfTerm), tf.max(tf.abs(perTime(fullTerm)), 1), tf.mean(finite, 1)];
  });
  const [maxJvp, maxTerm, maxTermFloat32, finiteFraction] = await readAndDispose(results);
  return times.map((t, i) => ({ t, form, maxJvp: maxJvp[i], maxTerm: maxTerm[i], maxTermFloat32: maxTermFloat32[i], finiteFraction: finiteFraction[i] }));
}

/**
 * Relative error ‖FD(ε) − J‖/‖J‖ of the central finite-difference JVP against the exact dual JVP, for each
 * ε. In float32 this is U-shaped: truncation ∝ ε² on the right, round-off ∝ 1/ε on the left.
 */
export async function finiteDifferenceErrors(net: FlowNetwork, u: tf.Tensor, t: tf.Tensor, uDot: tf.Tensor, tDot: tf.Tensor, epsilons: readonly number[]): Promise<{ eps: number; error: number }[]> {
  // ‖J‖ first, then ‖FD(ε) − J‖ for every ε, in one vector and one read.
  const norms = tf.tidy(() => {
    const exact = jvp(net, u, t, uDot, tDot).tangent;
    return tf.stack([tf.norm(exact), ...epsilons.map((eps) => tf.norm(tf.sub(finiteDifferenceJvp(net, u, t, uDot, tDot, eps), exact)))]);
  });
  const [[norm, ...errors]] = await readAndDispose([norms]);
  return epsilons.map((eps, i) => ({ eps, error: errors[i] / norm }));
}

export interface PathDerivative {
  t: number;
  x: Float64Array;
  /** F*(x_t/σd, t) */
  F: Float64Array;
  /** ∇_u F·(dx/dt)/σd: how F changes because the point moves */
  spatial: Float64Array;
  /** ∂F/∂t: how F changes because time passes */
  temporal: Float64Array;
  /** the total derivative dF/dt = spatial + temporal along the PF-ODE */
  total: Float64Array;
}

/**
 * dF/dt along an exact PF-ODE path of a Gaussian mixture, for the exact F* and dx/dt = σd F* (sCD with a
 * perfect teacher), split into its spatial and temporal parts. Central differences in float64 with
 * h = 1e-5 are accurate to ~1e-9 here, far below what a figure shows.
 */
export function pathDerivatives(mix: GaussianMixture, points: readonly Float64Array[], times: readonly number[], sigmaD = SIGMA_D): PathDerivative[] {
  const F = exactFlowNetwork(mix, sigmaD);
  const h = 1e-5;
  const at = (x: Float64Array, t: number) => F(x.map((v) => v / sigmaD), t);
  return points.map((x, i) => {
    const t = times[i];
    const value = at(x, t);
    const velocity = value.map((f) => sigmaD * f);
    const shifted = (sign: number) => x.map((v, j) => v + sign * h * velocity[j]);
    const spatial = at(shifted(1), t).map((v, j) => (v - at(shifted(-1), t)[j]) / (2 * h));
    const temporal = at(x, t + h).map((v, j) => (v - at(x, t - h)[j]) / (2 * h));
    return { t, x, F: value, spatial, temporal, total: spatial.map((s, j) => s + temporal[j]) };
  });
}
