/**
 * The browser side of `npm run bench:train`: a page module (bundled with TF.js by bundle.ts) that activates
 * the backend named in its URL (?backend=webgpu|webgl&preset=…&batch=…&steps=…&warmup=…&resolution=…), runs
 * the kernel, and leaves the outcome in window.__benchTrain for the orchestrator (scripts/bench/train.ts).
 * Progress goes to the console.
 */
import * as tf from "@tensorflow/tfjs";
import "@tensorflow/tfjs-backend-webgpu";
import { DEFAULT_TRAIN_BENCH, describeWebGpuAdapter, runTrainBench, webglProblem } from "./kernel.ts";
import { benchOptionsFrom } from "./options.ts";

type Outcome = { ok: true; adapter: string; result: unknown } | { ok: false; error: string };
const done = (outcome: Outcome) => ((window as unknown as { __benchTrain: Outcome }).__benchTrain = outcome);

async function main(): Promise<Outcome> {
  const query = new URLSearchParams(location.search);
  const backend = query.get("backend") ?? "webgpu";
  if (backend !== "webgpu" && backend !== "webgl") throw new Error(`backend ${backend} is not benchmarked in the browser`);
  const options = benchOptionsFrom(new Map([...query.entries()].filter(([k]) => k !== "backend")), DEFAULT_TRAIN_BENCH);
  let adapter = "";
  if (backend === "webgpu") {
    adapter = await describeWebGpuAdapter();
    if (adapter === "no navigator.gpu" || adapter === "no adapter") throw new Error(`WebGPU: ${adapter}`);
  }
  if (!(await tf.setBackend(backend)) || tf.getBackend() !== backend) throw new Error(`TF.js could not initialise ${backend}`);
  if (backend === "webgl") {
    const problem = webglProblem();
    if (problem) throw new Error(problem);
    const gl = (tf.backend() as unknown as { gpgpu?: { gl?: WebGLRenderingContext } }).gpgpu?.gl;
    const info = gl?.getExtension("WEBGL_debug_renderer_info");
    adapter = gl ? String(gl.getParameter(info ? info.UNMASKED_RENDERER_WEBGL : gl.RENDERER)) : "";
  }
  const result = await runTrainBench(options, (line) => console.log(line));
  return { ok: true, adapter, result };
}

// Start after `load`: on a synchronous backend the whole run would otherwise hold the load event back.
window.addEventListener("load", () => {
  main().then(done, (error: Error) => done({ ok: false, error: error.message }));
});
