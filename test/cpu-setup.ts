/**
 * Preloaded by `npm run test:unit`: the library's tests run on TF.js's CPU backend with the strided kernels
 * that the site's CPU fallback and the Node scripts use (cpu-kernels.ts; bit-identical to TF.js's own, which
 * test/cpu-kernels.test.ts checks).
 */
import { useFastCpuKernels } from "../src/components/runtime/cpu-kernels.ts";

useFastCpuKernels();
