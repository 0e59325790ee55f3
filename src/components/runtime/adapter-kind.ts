/**
 * The one WebGPU adapter probe, and whether an adapter is a software emulation (Chromium's SwiftShader, Mesa's
 * llvmpipe/lavapipe, WARP): such an adapter runs "GPU" kernels on the CPU, slower than WebGL on the same machine.
 * No TF.js here, so pages can ask before loading any.
 */
export interface AdapterLike {
  isFallbackAdapter?: boolean;
  info?: { vendor?: string; architecture?: string; device?: string; description?: string; isFallbackAdapter?: boolean };
}

const SOFTWARE = /swiftshader|llvmpipe|lavapipe|softpipe|software|warp|basic render/i;

/** The adapter's name from what the browser exposes, e.g. "google swiftshader". */
export function adapterName(adapter: AdapterLike): string {
  const info = adapter.info ?? {};
  return [info.vendor, info.architecture, info.device, info.description].filter(Boolean).join(" ").trim();
}

export function isSoftwareAdapter(adapter: AdapterLike): boolean {
  return adapter.isFallbackAdapter === true || adapter.info?.isFallbackAdapter === true || SOFTWARE.test(adapterName(adapter));
}

/** A renderer string (WebGL's UNMASKED_RENDERER) that names a software rasteriser. */
export function isSoftwareRenderer(renderer: string): boolean {
  return SOFTWARE.test(renderer);
}

/** What asking this browser (or worker) for a WebGPU adapter found. */
export type WebGpuProbe =
  | { found: false; reason: string }
  | { found: true; adapter: AdapterLike; name: string; software: boolean };

/** Ask for a WebGPU adapter, without loading TF.js; never throws. */
export async function probeWebGpu(): Promise<WebGpuProbe> {
  const gpu = (globalThis as { navigator?: { gpu?: { requestAdapter(): Promise<AdapterLike | null> } } }).navigator?.gpu;
  if (!gpu) return { found: false, reason: "this browser has no WebGPU (navigator.gpu is missing)" };
  const adapter = await gpu.requestAdapter().catch(() => null);
  if (!adapter) return { found: false, reason: "WebGPU exists but offers no adapter (no usable GPU, or the browser blocks it)" };
  return { found: true, adapter, name: adapterName(adapter), software: isSoftwareAdapter(adapter) };
}
