/**
 * Whether a WebGPU adapter is a software emulation (Chromium's SwiftShader, Mesa's llvmpipe/lavapipe, WARP):
 * such an adapter runs "GPU" kernels on the CPU, slower than WebGL on the same machine. No TF.js here, so pages
 * can ask before loading any.
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
