// Data loader: one of TF.js's WebAssembly binaries, served from the build (no CDN) for the 2-D pages' workers.
import { readFileSync } from "node:fs";

process.stdout.write(readFileSync("node_modules/@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-threaded-simd.wasm"));
