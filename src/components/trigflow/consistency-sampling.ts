/**
 * Consistency-model samplers (§5.2, App. G.2; Song et al. 2023, Alg. 1 "multistep consistency sampling").
 * A consistency function f(x_t, t) maps any point of a PF-ODE trajectory to the trajectory's start x0,
 * so one evaluation at t_max turns noise into data; each extra step re-noises with *fresh* noise and
 * applies f again.
 */
import type { LinearOps } from "../math/linear-ops.js";
import type { FlowFunction } from "./ode-solvers.js";
import { SIGMA_D, T_MAX, T_MID } from "./trigflow.js";

/** f(x_t, t) ≈ x0: a trained consistency model, or the ideal one obtained by solving the ODE exactly. */
export type ConsistencyFn<T> = (x: T, t: number) => T;

/** A network F becomes a consistency function by Eq. 5: f(x_t, t) = cos t·x_t − σd sin t·F(x_t/σd, t). */
export function consistencyFromNetwork<T>(ops: LinearOps<T>, network: FlowFunction<T>, sigmaD = SIGMA_D): ConsistencyFn<T> {
  return (x, t) => {
    const F = network(ops.combine([[1 / sigmaD, x]]), t);
    return ops.combine([[Math.cos(t), x], [-sigmaD * Math.sin(t), F]]);
  };
}

/**
 * General multistep sampling along decreasing times [t_0 = t_max, t_1, …]:
 *   x0 ← f(z, t_0);  for each later t_i: x ← cos t_i·x0 + sin t_i·z_i (fresh z_i ~ N(0, σd² I)); x0 ← f(x, t_i).
 * The start x_{t_max} is the noise z itself: at t_max = arctan(80/σd), cos t_max ≈ 0.006 of the data remains,
 * which is what EDM-style samplers also ignore (App. G.2).
 *
 * @param noise returns fresh N(0, σd² I) noise of the sample's shape at each call
 */
export function sampleMultistep<T>(
  ops: LinearOps<T>,
  f: ConsistencyFn<T>,
  z: T,
  times: readonly number[],
  noise: () => T,
): T {
  if (times.length === 0) throw new RangeError("sampleMultistep needs at least one time");
  for (let i = 1; i < times.length; i++) {
    if (!(times[i] < times[i - 1])) throw new RangeError(`sampling times must decrease: ${times.join(", ")}`);
  }
  let x0 = f(z, times[0]);
  for (const t of times.slice(1)) {
    const xt = ops.combine([[Math.cos(t), x0], [Math.sin(t), noise()]]);
    x0 = f(xt, t);
  }
  return x0;
}

/** One step: x0 = f(z, t_max). */
export function sampleOneStep<T>(ops: LinearOps<T>, f: ConsistencyFn<T>, z: T, tMax = T_MAX): T {
  return sampleMultistep(ops, f, z, [tMax], () => {
    throw new Error("unreachable: one-step sampling draws no extra noise");
  });
}

/** Two steps, t_max then the paper's fixed t_mid = 1.1 rad with fresh noise (App. G.2). */
export function sampleTwoStep<T>(
  ops: LinearOps<T>,
  f: ConsistencyFn<T>,
  z: T,
  noise: () => T,
  tMax = T_MAX,
  tMid = T_MID,
): T {
  return sampleMultistep(ops, f, z, [tMax, tMid], noise);
}
