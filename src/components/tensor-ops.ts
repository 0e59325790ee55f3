/**
 * LinearOps on TF.js tensors, so ode-solvers.ts and consistency-sampling.ts drive networks directly.
 * Intermediate tensors are not disposed here: wrap a whole solve or sample in tf.tidy().
 */
import * as tf from "@tensorflow/tfjs";
import type { LinearOps } from "./linear-ops.js";

export const tensorOps: LinearOps<tf.Tensor> = {
  combine(terms) {
    return tf.tidy(() => terms.map(([c, x]) => tf.mul(x, c)).reduce((sum, term) => tf.add(sum, term)));
  },
  maxAbs(x) {
    return tf.tidy(() => tf.max(tf.abs(x))).dataSync()[0];
  },
};
