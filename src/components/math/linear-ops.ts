/**
 * The few vector operations ODE solvers and samplers need, abstracted so the same solver code runs on
 * plain Float64Arrays (pages, exact 2D math) and on TF.js tensors (training, images). See tensor-ops.ts.
 */

export interface LinearOps<T> {
  /** Σ_i c_i·x_i for terms [c_i, x_i] (all x_i of the same shape). */
  combine(terms: ReadonlyArray<readonly [number, T]>): T;
  /** max_i |x_i|, used by the adaptive reference solver's error control. */
  maxAbs(x: T): number;
}

/** LinearOps on Float64Array (any number of points of any dimension, stored flat). */
export const arrayOps: LinearOps<Float64Array> = {
  combine(terms) {
    const n = terms[0][1].length;
    const out = new Float64Array(n);
    for (const [c, x] of terms) {
      if (x.length !== n) throw new RangeError(`combine: length ${x.length} differs from ${n}`);
      if (c === 0) continue;
      for (let i = 0; i < n; i++) out[i] += c * x[i];
    }
    return out;
  },
  maxAbs(x) {
    let m = 0;
    for (let i = 0; i < x.length; i++) m = Math.max(m, Math.abs(x[i]));
    return m;
  },
};
