/**
 * The analytic F* of a Gaussian mixture wrapped as a FlowNetwork: a perfect teacher for sCD and discrete
 * CMs on 2-D data, which separates the student's error from the teacher's. Plain evaluation only (it reads
 * tensor values into float64 JavaScript and back), so it is for small batches and never differentiated.
 */
import * as tf from "@tensorflow/tfjs";
import type { TensorAlgebra } from "./nn/algebra.js";
import type { FlowNetwork } from "./nn/network.js";
import { ParameterSet } from "./nn/parameters.js";
import { exactFlowNetwork, type GaussianMixture } from "./gaussian-mixture.js";
import { SIGMA_D } from "./trigflow.js";

export function exactTeacher(mixture: GaussianMixture, sigmaD = SIGMA_D): FlowNetwork {
  const F = exactFlowNetwork(mixture, sigmaD);
  return {
    params: new ParameterSet(),
    apply<X>(alg: TensorAlgebra<X>, u: X, t: X): X {
      if (alg.mode !== "plain") throw new Error("the exact teacher is evaluated, never differentiated");
      const uu = (u as tf.Tensor).dataSync();
      const tt = (t as tf.Tensor).dataSync();
      const dim = mixture.dim;
      const out = new Float32Array(uu.length);
      for (let i = 0; i < tt.length; i++) {
        const row = F(Float64Array.from(uu.subarray(i * dim, (i + 1) * dim)), tt[i]);
        out.set(row, i * dim);
      }
      return tf.tensor(out, (u as tf.Tensor).shape) as X;
    },
    logvar: (t) => tf.zerosLike(t),
    dispose: () => {},
  };
}
