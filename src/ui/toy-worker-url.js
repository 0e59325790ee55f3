// The jobs worker's URL for the pages whose jobs are 2-D toy runs (/stabilizers, /discrete, /jvp): it carries
// TF.js's WebAssembly binaries, so that the worker runs WASM there, its first choice (components/runtime/backend.ts). Plain
// JavaScript, not TypeScript, because Framework resolves these file attachments here, relative to this module.
import {FileAttachment} from "observablehq:stdlib";
import {withWasmFiles} from "./worker-client.js";

export async function toyWorkerUrl() {
  return withWasmFiles(await FileAttachment("../data/jobs-worker.js").url(), {
    "tfjs-backend-wasm.wasm": await FileAttachment("../data/tfjs-backend-wasm.wasm").url(),
    "tfjs-backend-wasm-simd.wasm": await FileAttachment("../data/tfjs-backend-wasm-simd.wasm").url(),
    "tfjs-backend-wasm-threaded-simd.wasm": await FileAttachment("../data/tfjs-backend-wasm-threaded-simd.wasm").url(),
  });
}
