/**
 * Turn "the GPU ran out of memory" into an error. TF.js's WebGPU backend (4.22) neither opens WebGPU error
 * scopes nor watches for a lost device, so an allocation that fails only logs a warning and the model then
 * computes garbage. A scope opened around loading or sampling catches every out-of-memory error of the
 * device in between; a lost device (driver reset, memory pressure) is reported too. On other backends this
 * does nothing: WebGL and CPU allocation failures throw by themselves.
 */
import * as tf from "@tensorflow/tfjs";

export class GpuMemoryError extends Error {
  override name = "GpuMemoryError";
}

/** The few GPUDevice members used here (TypeScript's DOM library has no WebGPU types). */
interface GpuDeviceLike {
  pushErrorScope(filter: "out-of-memory"): void;
  popErrorScope(): Promise<{ message: string } | null>;
  lost: Promise<{ message: string; reason?: string }>;
}

function activeWebGpuDevice(): GpuDeviceLike | null {
  if (tf.getBackend() !== "webgpu") return null;
  const device = (tf.backend() as unknown as { device?: GpuDeviceLike }).device;
  return device && typeof device.pushErrorScope === "function" ? device : null;
}

const lostMessages = new WeakMap<GpuDeviceLike, string>();

/** Why the device was lost, if it was. */
function lostReason(device: GpuDeviceLike): string | undefined {
  if (!lostMessages.has(device)) {
    lostMessages.set(device, "");
    device.lost.then((info) => lostMessages.set(device, info.message || info.reason || "no reason given"));
  }
  return lostMessages.get(device) || undefined;
}

export interface GpuMemoryScope {
  /** Close the scope; throws GpuMemoryError if an allocation failed inside it or the device was lost. */
  close(what: string): Promise<void>;
}

/** Open a scope now; close it exactly once (also on error paths, or later scopes would nest inside it). */
export function openGpuMemoryScope(): GpuMemoryScope {
  const device = activeWebGpuDevice();
  if (device) {
    lostReason(device);
    device.pushErrorScope("out-of-memory");
  }
  let closed = false;
  return {
    async close(what) {
      if (!device || closed) return;
      closed = true;
      const error = await device.popErrorScope().catch(() => null);
      const lost = lostReason(device);
      if (lost) throw new GpuMemoryError(`the GPU device was lost ${what} (${lost}); reload the page to start again`);
      if (error) throw new GpuMemoryError(`the GPU ran out of memory ${what} (${error.message}); close other GPU-heavy tabs or use a machine with more GPU memory`);
    },
  };
}
