/**
 * Choose the fastest TF.js backend that works here, and say why. Order: WebGPU, then WebGL, then CPU.
 *
 * Each candidate must pass three checks, because "setBackend returned" is not "it works":
 * 1. its precondition (navigator.gpu for WebGPU; a canvas for WebGL);
 * 2. tf.setBackend() resolving true (TF.js quirk: after a failed WebGPU init, getBackend() may still
 *    claim "webgpu", so the return value is what counts);
 * 3. a tiny matmul that must give [[19, 22], [43, 50]], and for WebGL 32-bit float render targets:
 *    sCM's tangents are useless in 16-bit floats (brief §3.9, §9).
 * WASM is not offered: its TF.js backend lacks convolution gradients, which every image model here needs.
 */
import * as tf from "@tensorflow/tfjs";
import "@tensorflow/tfjs-backend-webgpu";
import { useFastCpuKernels } from "./cpu-kernels.js";

export type BackendName = "webgpu" | "webgl" | "cpu";

export interface BackendAttempt {
  name: BackendName;
  ok: boolean;
  /** why it was rejected, or what was confirmed */
  reason: string;
}

export interface BackendReport {
  active: BackendName;
  attempts: BackendAttempt[];
  /** one sentence for the page, e.g. "WebGPU (GPU)" or "CPU: WebGPU unavailable (…)" */
  summary: string;
}

export const BACKEND_LABELS: Record<BackendName, string> = {
  webgpu: "WebGPU (GPU)",
  webgl: "WebGL (GPU, slower)",
  cpu: "CPU (slow)",
};

const DEFAULT_ORDER: BackendName[] = ["webgpu", "webgl", "cpu"];

interface GpuLike {
  requestAdapter(): Promise<unknown>;
}

async function precondition(name: BackendName): Promise<string | null> {
  const g = globalThis as { navigator?: { gpu?: GpuLike }; document?: unknown; OffscreenCanvas?: unknown };
  if (name === "webgpu") {
    if (!g.navigator?.gpu) return "this browser has no WebGPU (navigator.gpu is missing)";
    // Asking for an adapter first avoids TF.js's noisy failed initialisation when there is none.
    const adapter = await g.navigator.gpu.requestAdapter().catch(() => null);
    if (!adapter) return "WebGPU exists but offers no adapter (no usable GPU, or the browser blocks it)";
  }
  if (name === "webgl" && typeof g.document === "undefined" && typeof g.OffscreenCanvas === "undefined") {
    return "no canvas to create a WebGL context on";
  }
  return null;
}

async function sanityCheck(name: BackendName): Promise<string | null> {
  if (name === "webgl" && !tf.env().getBool("WEBGL_RENDER_FLOAT32_ENABLED")) {
    return "WebGL here renders only 16-bit floats, too imprecise for sCM's tangents";
  }
  const product = tf.tidy(() => tf.matMul(tf.tensor2d([[1, 2], [3, 4]]), tf.tensor2d([[5, 6], [7, 8]])));
  const values = Array.from(await product.data());
  product.dispose();
  const expected = [19, 22, 43, 50];
  if (values.some((v, i) => Math.abs(v - expected[i]) > 1e-4)) return `a test matmul gave ${values.join(", ")} instead of 19, 22, 43, 50`;
  return null;
}

async function tryBackend(name: BackendName): Promise<BackendAttempt> {
  // The CPU fallback gets strided kernels that give TF.js's results several times faster (cpu-kernels.ts).
  if (name === "cpu") useFastCpuKernels();
  const missing = await precondition(name);
  if (missing) return { name, ok: false, reason: missing };
  try {
    // setBackend awaits the backend's initialisation; its boolean is the only reliable verdict.
    const ok = await tf.setBackend(name);
    if (!ok || tf.getBackend() !== name) return { name, ok: false, reason: "TF.js could not initialise it (no suitable adapter or context)" };
    const problem = await sanityCheck(name);
    if (problem) return { name, ok: false, reason: problem };
    return { name, ok: true, reason: "initialised and passed a test matmul" };
  } catch (error) {
    return { name, ok: false, reason: `initialisation failed: ${error instanceof Error ? error.message : String(error)}` };
  }
}

/**
 * Activate the first backend of `order` that passes every check. CPU is always the last resort, so the
 * result always names a working backend.
 */
export async function selectBackend(order: readonly BackendName[] = DEFAULT_ORDER): Promise<BackendReport> {
  const attempts: BackendAttempt[] = [];
  const candidates = order.includes("cpu") ? order : [...order, "cpu" as const];
  for (const name of candidates) {
    const attempt = await tryBackend(name);
    attempts.push(attempt);
    if (attempt.ok) return { active: name, attempts, summary: summarize(name, attempts) };
  }
  throw new Error(`no TF.js backend works here: ${attempts.map((a) => `${a.name}: ${a.reason}`).join("; ")}`);
}

function summarize(active: BackendName, attempts: BackendAttempt[]): string {
  const rejected = attempts.filter((a) => !a.ok).map((a) => `${a.name}: ${a.reason}`);
  return rejected.length === 0 ? BACKEND_LABELS[active] : `${BACKEND_LABELS[active]} — fell back because ${rejected.join("; ")}`;
}
