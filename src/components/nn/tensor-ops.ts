/**
 * LinearOps on TF.js tensors, so ode-solvers.ts and consistency-sampling.ts drive networks directly.
 * Intermediate tensors are not disposed here: wrap a whole solve or sample in tf.tidy().
 */
import * as tf from "@tensorflow/tfjs";
import type { LinearOps } from "../math/linear-ops.js";

export const tensorOps: LinearOps<tf.Tensor> = {
  combine(terms) {
    return tf.tidy(() => terms.map(([c, x]) => tf.mul(x, c)).reduce((sum, term) => tf.add(sum, term)));
  },
  maxAbs() {
    // Only the adaptive solver needs it, to choose its next step on the host: on tensors that is a synchronous
    // read of GPU memory, which blocks the thread (and on WebGPU in Chromium returns zeros). Solve adaptively
    // on arrays (arrayOps) instead; tensors use fixed grids.
    throw new Error("tensorOps has no maxAbs: adaptive ODE solves run on arrays (arrayOps), never on GPU tensors");
  },
};
