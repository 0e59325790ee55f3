import assert from "node:assert/strict";

/** Assert |actual − expected| ≤ tol elementwise, with a message naming the worst index. */
export function assertClose(actual: ArrayLike<number> | number, expected: ArrayLike<number> | number, tol: number, what = "value"): void {
  const a = typeof actual === "number" ? [actual] : Array.from(actual);
  const e = typeof expected === "number" ? [expected] : Array.from(expected);
  assert.equal(a.length, e.length, `${what}: length ${a.length} ≠ ${e.length}`);
  let worst = 0;
  let at = -1;
  for (let i = 0; i < a.length; i++) {
    const err = Math.abs(a[i] - e[i]);
    if (!(err <= worst)) {
      worst = err;
      at = i;
    }
  }
  assert.ok(worst <= tol, `${what}: |${a[at]} − ${e[at]}| = ${worst} > ${tol} at index ${at}`);
}

/** Least-squares slope of log(error) against log(steps): the measured order of convergence is −slope. */
export function convergenceOrder(steps: number[], errors: number[]): number {
  const xs = steps.map(Math.log);
  const ys = errors.map(Math.log);
  const mx = xs.reduce((a, b) => a + b, 0) / xs.length;
  const my = ys.reduce((a, b) => a + b, 0) / ys.length;
  let num = 0;
  let den = 0;
  for (let i = 0; i < xs.length; i++) {
    num += (xs[i] - mx) * (ys[i] - my);
    den += (xs[i] - mx) ** 2;
  }
  return -num / den;
}
