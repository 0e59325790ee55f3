/**
 * Choose the TF.js backend that runs sCM Lab's math here, and say honestly which device that is.
 *
 * Order: WebGPU on a real GPU, then WebGL, then WebGPU on a software adapter, then CPU. A reader (or a test) can
 * force one with the URL parameter `?backend=webgpu|webgl|wasm|cpu`; if the forced one fails, the others follow
 * in the usual order and the report says why. WASM is available on the pages whose jobs are 2-D toy runs (they
 * pass the binaries' URLs in the worker's address, see wasmFilesFrom), and there it comes first: a small MLP is
 * bound by per-kernel overhead, not arithmetic, and WASM runs its steps 2–3.4× faster than the CPU kernels
 * (bench:toy prints both side by side) and faster than WebGL, whose every kernel is a draw call.
 *
 * Each candidate must pass three checks, because "setBackend returned" is not "it works":
 * 1. its precondition (a WebGPU adapter; a canvas for WebGL);
 * 2. tf.setBackend() resolving true (TF.js quirk: after a failed WebGPU init, getBackend() may still
 *    claim "webgpu", so the return value is what counts);
 * 3. the probe of backend-probe.ts — forward, exact JVP and one Adam step of the toy MLP, read back with
 *    `await data()` — agreeing with TF.js's CPU backend. For WebGL, 32-bit float render targets are required
 *    first: sCM's tangents are useless in 16-bit floats (§5.1 of the paper trains in fp16 only with the
 *    rearranged JVP, which needs a float32 reference to mean anything).
 *
 * Why a software WebGPU adapter goes after WebGL: Chromium's SwiftShader adapter (`isFallbackAdapter`) runs
 * WebGPU on the CPU, measured 6× slower than WebGL on the same machine (0.57 vs 3.41 GFLOP/s on /backend).
 * Image pages do not offer WASM: its TF.js backend lacks convolution gradients, which every image model needs.
 */
import * as tf from "@tensorflow/tfjs";
import "@tensorflow/tfjs-backend-webgpu";
import { useFastCpuKernels } from "./cpu-kernels.js";
import { useFastWasmKernels } from "./wasm-kernels.js";
import { PROBE_TOLERANCE, probeDeviation, runToyProbe } from "./backend-probe.js";
import { isSoftwareRenderer, probeWebGpu } from "./adapter-kind.js";
import { describeError } from "../checkpoint/errors.js";

export type BackendName = "webgpu" | "webgl" | "wasm" | "cpu";

/** Which device runs the math: a GPU, a software emulation of one, or TF.js's CPU kernels. */
export type DeviceKind = "gpu" | "software" | "cpu";

export interface BackendAttempt {
  name: BackendName;
  ok: boolean;
  /** why it was rejected, or what was confirmed */
  reason: string;
  /** the device behind it, when it initialised */
  device?: DeviceKind;
  /** the adapter or renderer name, when the browser tells it (e.g. "google swiftshader") */
  adapter?: string;
  /** what it would run on, in words (backendLabel), when it initialised */
  label?: string;
}

export interface BackendReport {
  active: BackendName;
  device: DeviceKind;
  attempts: BackendAttempt[];
  /** the backend asked for with ?backend=, if any */
  requested: BackendName | null;
  /** a ?backend= value that is not a backend, ignored */
  ignoredRequest?: string;
  /** what runs the math, for the page: e.g. "WebGPU on the GPU" or "WebGL on a software renderer (SwiftShader)" */
  label: string;
  /** the label, and after a fallback why: one sentence */
  summary: string;
}

export const BACKEND_NAMES: readonly BackendName[] = ["webgpu", "webgl", "cpu"];
const ALL_BACKENDS: readonly BackendName[] = ["wasm", ...BACKEND_NAMES];
const API_LABELS: Record<BackendName, string> = { webgpu: "WebGPU", webgl: "WebGL", wasm: "WebAssembly", cpu: "CPU" };

/** "WebGPU on the GPU", "WebGL on a software renderer (…)", "CPU (TF.js's JavaScript kernels)". */
export function backendLabel(name: BackendName, device: DeviceKind, adapter?: string): string {
  if (name === "cpu") return "CPU (TF.js's JavaScript kernels)";
  if (name === "wasm") return "WebAssembly on the CPU (TF.js's WASM kernels)";
  const soft = name === "webgpu" ? "a software adapter" : "a software renderer";
  return device === "software" ? `${API_LABELS[name]} on ${soft}${adapter ? ` (${adapter})` : ""}, emulated on the CPU` : `${API_LABELS[name]} on the GPU`;
}

/** The backend a URL asks for with ?backend=, or null; `invalid` is set when the value is not a backend. */
export function requestedBackend(search: string | undefined = (globalThis as { location?: { search?: string } }).location?.search): { name: BackendName | null; invalid?: string } {
  const value = new URLSearchParams(search ?? "").get("backend");
  if (value === null || value === "") return { name: null };
  const name = value.toLowerCase() as BackendName;
  return ALL_BACKENDS.includes(name) ? { name } : { name: null, invalid: value };
}

/** TF.js's three WebAssembly binaries (plain, SIMD, threaded SIMD), which the build serves. */
export const WASM_FILES = ["tfjs-backend-wasm.wasm", "tfjs-backend-wasm-simd.wasm", "tfjs-backend-wasm-threaded-simd.wasm"] as const;
export type WasmFiles = Record<(typeof WASM_FILES)[number], string>;

/**
 * The WebAssembly binaries' URLs a worker's address carries (`?tfjs-backend-wasm.wasm=…&…`), or null when the
 * page offers none. Pages put them there (ui/worker-client.ts withWasmFiles), since only a page can resolve
 * Framework's file attachments.
 */
export function wasmFilesFrom(search: string | undefined = (globalThis as { location?: { search?: string } }).location?.search): WasmFiles | null {
  const params = new URLSearchParams(search ?? "");
  const urls = WASM_FILES.map((file) => params.get(file));
  if (urls.some((url) => !url)) return null;
  return Object.fromEntries(WASM_FILES.map((file, i) => [file, urls[i]!])) as WasmFiles;
}

let wasmReady: Promise<void> | null = null;
/** Load TF.js's WASM backend on first use only: registering it would make it a default candidate everywhere. */
function loadWasmBackend(files: WasmFiles): Promise<void> {
  wasmReady ??= import("@tensorflow/tfjs-backend-wasm").then(({ setWasmPaths }) => {
    setWasmPaths(files);
    // Its Slice and SplitV copy the whole input once per piece (wasm-kernels.ts): 20% of a live toy run.
    useFastWasmKernels();
  });
  return wasmReady;
}

/** Ask for a WebGPU adapter and classify it; a string says why there is none. */
async function webgpuAdapter(): Promise<{ device: DeviceKind; adapter: string } | string> {
  const probe = await probeWebGpu();
  if (!probe.found) return probe.reason;
  return { device: probe.software ? "software" : "gpu", adapter: probe.name || "unnamed adapter" };
}

/** The renderer behind TF.js's WebGL context, and whether it is software. */
function webglDevice(): { device: DeviceKind; adapter?: string } {
  try {
    const gl = (tf.backend() as unknown as { gpgpu?: { gl?: WebGLRenderingContext } }).gpgpu?.gl;
    const ext = gl?.getExtension("WEBGL_debug_renderer_info");
    const renderer = gl && ext ? String(gl.getParameter(ext.UNMASKED_RENDERER_WEBGL)) : undefined;
    if (!renderer) return { device: "gpu" };
    const short = /swiftshader/i.test(renderer) ? "SwiftShader" : renderer;
    return { device: isSoftwareRenderer(renderer) ? "software" : "gpu", adapter: short };
  } catch {
    return { device: "gpu" };
  }
}

let cpuReference: Promise<Float32Array> | null = null;
/** The probe on TF.js's CPU backend, computed once; the backend is restored afterwards by the caller. */
async function referenceProbe(): Promise<Float32Array> {
  cpuReference ??= (async () => {
    useFastCpuKernels();
    await tf.setBackend("cpu");
    return runToyProbe();
  })();
  return cpuReference;
}

/** Why the backend fails the probe, or null; `measured` receives its deviation from the CPU. */
async function probe(name: BackendName, measured: { deviation?: number } = {}): Promise<string | null> {
  if (name === "webgl" && !tf.env().getBool("WEBGL_RENDER_FLOAT32_ENABLED")) {
    return "WebGL here renders only 16-bit floats, too imprecise for sCM's tangents";
  }
  if (name === "cpu") return null;
  const reference = await referenceProbe();
  if (!(await tf.setBackend(name))) return "TF.js could not re-activate it after the reference probe";
  const deviation = probeDeviation(await runToyProbe(), reference);
  measured.deviation = deviation;
  if (!(deviation <= PROBE_TOLERANCE)) {
    return `its numbers differ from the CPU's on a forward, JVP and training step of the toy MLP (relative error ${Number.isFinite(deviation) ? deviation.toExponential(1) : "∞"}, tolerance ${PROBE_TOLERANCE})`;
  }
  return null;
}

/** `search` is the address's query (wasmFilesFrom reads the WebAssembly binaries from it). */
async function tryBackend(name: BackendName, search: string | undefined): Promise<BackendAttempt> {
  let device: DeviceKind = name === "cpu" || name === "wasm" ? "cpu" : "gpu";
  let adapter: string | undefined;
  if (name === "webgpu") {
    const found = await webgpuAdapter();
    if (typeof found === "string") return { name, ok: false, reason: found };
    ({ device, adapter } = found);
  }
  const g = globalThis as { document?: unknown; OffscreenCanvas?: unknown };
  if (name === "webgl" && typeof g.document === "undefined" && typeof g.OffscreenCanvas === "undefined") {
    return { name, ok: false, reason: "no canvas to create a WebGL context on" };
  }
  // The CPU fallback gets strided kernels that give TF.js's results several times faster (cpu-kernels.ts).
  if (name === "cpu") useFastCpuKernels();
  try {
    if (name === "wasm") {
      const files = wasmFilesFrom(search);
      if (!files) return { name, ok: false, reason: "this page offers no WebAssembly kernels (image models need convolution gradients, which TF.js's WASM backend lacks)" };
      await loadWasmBackend(files);
    }
    // setBackend awaits the backend's initialisation; its boolean is the only reliable verdict.
    const ok = await tf.setBackend(name);
    if (!ok || tf.getBackend() !== name) return { name, ok: false, reason: "TF.js could not initialise it (no suitable adapter or context)" };
    if (name === "webgl") ({ device, adapter } = webglDevice());
    const measured: { deviation?: number } = {};
    const problem = await probe(name, measured);
    if (problem) return { name, ok: false, reason: problem, device, adapter };
    const agreement = measured.deviation === undefined ? "" : ` within ${measured.deviation.toExponential(1)}`;
    return { name, ok: true, reason: name === "cpu" ? "always available" : `initialised; forward, JVP and a training step match the CPU${agreement}`, device, adapter };
  } catch (error) {
    return { name, ok: false, reason: `initialisation failed: ${describeError(error)}`, device, adapter };
  }
}

/**
 * Activate the best backend that passes every check: `?backend=` first when given, then WASM where the page
 * offers it (2-D toy jobs), WebGPU on a GPU, WebGL, WebGPU on a software adapter, CPU. CPU is always the last
 * resort, so the result always names a working backend. `order` restricts the candidates (tests).
 */
export async function selectBackend(order?: readonly BackendName[], search?: string): Promise<BackendReport> {
  search ??= (globalThis as { location?: { search?: string } }).location?.search;
  order ??= wasmFilesFrom(search) ? ["wasm", ...BACKEND_NAMES] : BACKEND_NAMES;
  const request = requestedBackend(search);
  const attempts: BackendAttempt[] = [];
  let candidates = [...(request.name ? [request.name] : []), ...order.filter((n) => n !== request.name)];
  if (!candidates.includes("cpu")) candidates.push("cpu");
  // A software WebGPU adapter (known before TF.js initialises anything) waits until WebGL has had its chance,
  // unless the reader asked for WebGPU. Deciding this first saves probing a backend that would not be used:
  // each probe compiles ~100 kernels, which takes seconds on a software adapter.
  let softwareWebgpu = false;
  if (request.name !== "webgpu" && candidates.includes("webgl")) {
    const found = await webgpuAdapter();
    softwareWebgpu = typeof found !== "string" && found.device === "software";
    if (softwareWebgpu) {
      // Move WebGPU to just after WebGL, leaving every other position (a requested backend stays first).
      const others: BackendName[] = candidates.filter((n) => n !== "webgpu");
      others.splice(others.indexOf("webgl") + 1, 0, "webgpu");
      candidates = others;
    }
  }
  const finish = (attempt: BackendAttempt): BackendReport => {
    const device = attempt.device ?? "cpu";
    const label = backendLabel(attempt.name, device, attempt.adapter);
    const rejected = attempts.filter((a) => !a.ok && a !== attempt).map((a) => `${a.name}: ${a.reason}`);
    return {
      active: attempt.name, device, attempts, requested: request.name, ...(request.invalid ? { ignoredRequest: request.invalid } : {}),
      label, summary: rejected.length === 0 ? label : `${label} — fell back because ${rejected.join("; ")}`,
    };
  };
  for (const name of candidates) {
    const attempt = await tryBackend(name, search);
    if (attempt.device) attempt.label = backendLabel(attempt.name, attempt.device, attempt.adapter);
    attempts.push(attempt);
    if (attempt.ok) {
      if (name === "webgpu") watchDeviceLoss();
      const skipped = candidates.slice(candidates.indexOf(name) + 1).filter((n) => n !== "cpu");
      // Say why a software WebGPU adapter that was not needed stayed untried.
      if (softwareWebgpu && name === "webgl" && skipped.includes("webgpu")) attempts.push({ name: "webgpu", ok: false, reason: "not tried: its adapter is a software emulation, and WebGL, which outruns it, works" });
      return finish(attempt);
    }
  }
  throw new Error(`no TF.js backend works here: ${attempts.map((a) => `${a.name}: ${a.reason}`).join("; ")}`);
}

let lostMessage: string | null = null;

/**
 * Listen for the WebGPU device being lost (driver reset, out of memory, a crashed GPU process). Afterwards every
 * GPU call fails with messages like "mapAsync … no longer exists"; `deviceLoss()` turns them into one sentence.
 */
function watchDeviceLoss(): void {
  const device = (tf.backend() as unknown as { device?: { lost?: Promise<{ reason?: string; message?: string }> } }).device;
  device?.lost?.then((info) => {
    lostMessage = `the GPU device was lost (${info?.message || info?.reason || "no reason given"})`;
  });
}

/** A sentence when the WebGPU device has been lost, else null. */
export function deviceLoss(): string | null {
  return lostMessage;
}

let selection: Promise<BackendReport> | null = null;
/** selectBackend() once per page or worker: every caller shares its result. */
export function backendSelection(): Promise<BackendReport> {
  selection ??= selectBackend();
  return selection;
}
