/**
 * Let the browser paint and handle input before the next chunk of main-thread math. Framework runs every cell
 * that is ready in one go; a cell that awaits this first starts in a task of its own, so a page's pure-JS
 * computations (exact ODE paths, solver studies) never add up to one long frozen task.
 */
export function nextTask(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}

/**
 * Solve a batch of independent points (flat, `dim` numbers each) in slices of `sliceSize` points, each slice
 * in a task of its own, and return the results in the original order. `solve` maps a flat slice to one or
 * more flat arrays of the same layout (e.g. one state per time of a trajectory); part k of the answer is the
 * slices' part k joined. Pages use it so that one batched ODE solve (~0.2 s for 400 RK4 paths on a slow
 * machine) does not freeze the page for its whole length.
 */
export async function solveInSlices(
  points: Float64Array,
  dim: number,
  sliceSize: number,
  solve: (slice: Float64Array) => Float64Array | Float64Array[],
): Promise<Float64Array[]> {
  const n = points.length / dim;
  const slices: Float64Array[][] = [];
  for (let start = 0; start < n; start += sliceSize) {
    await nextTask();
    const out = solve(points.subarray(start * dim, Math.min(n, start + sliceSize) * dim));
    slices.push(Array.isArray(out) ? out : [out]);
  }
  return slices[0].map((_, part) => {
    const joined = new Float64Array(slices.reduce((sum, s) => sum + s[part].length, 0));
    let offset = 0;
    for (const s of slices) {
      joined.set(s[part], offset);
      offset += s[part].length;
    }
    return joined;
  });
}
