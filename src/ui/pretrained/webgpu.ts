/**
 * Whether this browser offers WebGPU, checked on the page before anything loads: the 1.18 GB models are
 * offered only there. Asking for an adapter is cheap and loads no TF.js; the worker's own backend choice
 * (reported by the inspect job) is the final word.
 */
import { probeWebGpu } from "../../components/runtime/adapter-kind.js";

export interface WebGpuStatus {
  available: boolean;
  /** why not, in one sentence, or what was found */
  reason: string;
}

export async function webgpuStatus(): Promise<WebGpuStatus> {
  const probe = await probeWebGpu();
  if (!probe.found) return { available: false, reason: probe.reason };
  // A software adapter would run a 296-million-parameter UNet on the CPU: minutes per image, gigabytes of memory.
  if (probe.software) return { available: false, reason: `WebGPU here runs on a software adapter (${probe.name || "a fallback adapter"}), which emulates a GPU on the CPU` };
  return { available: true, reason: "WebGPU has an adapter" };
}
