/**
 * How many kernels a piece of work runs: a hardware-independent measure of per-step overhead. On a GPU every
 * kernel is a dispatch with a fixed cost (a bind group, a uniform buffer, its share of a submit), so a training
 * step of thousands of small kernels is bound by their number, not by arithmetic.
 *
 * Two counts, because they differ: `kernels` is what TF.js's engine runs (tf.profile, every backend), and
 * `dispatches` is what the GPU backend actually launches (its runWebGPUProgram or runWebGLProgram calls; null on
 * the CPU). A reshape is a kernel but no dispatch; a concat of 148 tensors is one kernel but, on WebGPU, one
 * dispatch per 7 inputs (a shader binds at most 8 storage buffers) — so dispatches are the number to lower.
 */
import * as tf from "@tensorflow/tfjs";

export interface KernelCount {
  total: number;
  /** GPU programs launched, or null on a backend without them (CPU, WASM) */
  dispatches: number | null;
  /** GPU programs by their class name (e.g. BinaryOpProgram), most frequent first; empty without a GPU */
  dispatchesByProgram: [string, number][];
  /** kernels by name, most frequent first */
  byName: [string, number][];
}

type ProgramRunner = Record<string, (...args: unknown[]) => unknown>;
const RUNNERS = ["runWebGPUProgram", "runWebGLProgram"] as const;

export async function countKernels(work: () => Promise<unknown> | unknown): Promise<KernelCount> {
  const backend = tf.backend() as unknown as ProgramRunner;
  const runner = RUNNERS.find((name) => typeof backend[name] === "function");
  let dispatches = 0;
  const programs = new Map<string, number>();
  const original = runner ? backend[runner] : null;
  // Counted on the backend instance for the duration of `work` only, then restored.
  if (runner && original) {
    backend[runner] = function (this: unknown, ...args: unknown[]) {
      dispatches++;
      const name = (args[0] as { constructor?: { name?: string } } | undefined)?.constructor?.name ?? "unknown";
      programs.set(name, (programs.get(name) ?? 0) + 1);
      return original.apply(this, args);
    };
  }
  try {
    const info = await tf.profile(async () => {
      await work();
    });
    const counts = new Map<string, number>();
    for (const kernel of info.kernels) counts.set(kernel.name, (counts.get(kernel.name) ?? 0) + 1);
    const sorted = (m: Map<string, number>) => [...m].sort((a, b) => b[1] - a[1]);
    return { total: info.kernels.length, dispatches: runner ? dispatches : null, byName: sorted(counts), dispatchesByProgram: sorted(programs) };
  } finally {
    if (runner && original) backend[runner] = original;
  }
}

/** "Multiply 2445, Identity 1337, …": the most frequent kernels (or GPU programs), for a benchmark's comment lines. */
export function describeKernelCount({ byName, dispatchesByProgram }: KernelCount, most = 8): string {
  const top = (counts: [string, number][]) => counts.slice(0, most).map(([name, n]) => `${name} ${n}`).join(", ");
  return dispatchesByProgram.length > 0 ? `${top(byName)}; GPU programs: ${top(dispatchesByProgram)}` : top(byName);
}
