/**
 * The JVP page's float64 computations that run on the page itself: dF/dt along an exact PF-ODE path, split
 * into its spatial and time parts. No TF.js here, so the page does not load it: the page's TF.js work (the
 * network measurements) is in jvp-jobs.ts and runs in a Web Worker.
 */
import { SIGMA_D } from "../../trigflow/trigflow.js";
import { exactFlowNetwork, type GaussianMixture } from "../../trigflow/gaussian-mixture.js";

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
