/**
 * Whether this browser offers WebGPU, checked on the page before anything loads: the 1.18 GB models are
 * offered only there. Asking for an adapter is cheap and loads no TF.js; the worker's own backend choice
 * (reported by the inspect job) is the final word.
 */
import { adapterName, isSoftwareAdapter, type AdapterLike } from "../../components/runtime/adapter-kind.js";

export interface WebGpuStatus {
  available: boolean;
  /** why not, in one sentence, or what was found */
  reason: string;
}

export async function webgpuStatus(): Promise<WebGpuStatus> {
  const gpu = (navigator as { gpu?: { requestAdapter(): Promise<AdapterLike | null> } }).gpu;
  if (!gpu) return { available: false, reason: "this browser has no WebGPU (navigator.gpu is missing)" };
  const adapter = await gpu.requestAdapter().catch(() => null);
  if (!adapter) return { available: false, reason: "WebGPU exists here but offers no adapter (no usable GPU, or the browser blocks it)" };
  // A software adapter would run a 296-million-parameter UNet on the CPU: minutes per image, gigabytes of memory.
  if (isSoftwareAdapter(adapter)) return { available: false, reason: `WebGPU here runs on a software adapter (${adapterName(adapter) || "a fallback adapter"}), which emulates a GPU on the CPU` };
  return { available: true, reason: "WebGPU has an adapter" };
}
