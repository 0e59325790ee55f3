import { test } from "node:test";
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { diffusionLoss } from "../src/components/objectives/diffusion.ts";
import { ToyRun } from "../src/components/toy/toy-run.ts";
import { DEFAULT_TOY_RUN } from "../src/components/toy/toy-run-config.ts";
import { createMixture, exactFlowNetwork, sampleMixture } from "../src/components/trigflow/gaussian-mixture.ts";
import { createRng } from "../src/components/math/rng.ts";
import { plainAlgebra } from "../src/components/nn/algebra.ts";
import type { FlowNetwork } from "../src/components/nn/network.ts";
import { SIGMA_D } from "../src/components/trigflow/trigflow.ts";
import { assertClose } from "./helpers.ts";

await tf.setBackend("cpu");

test("the diffusion loss is zero for the oracle that knows each sample's own velocity (Eq. 4)", () => {
  // For one (x0, z) pair the target is v_t = cos t·z − sin t·x0. A fake network that returns v_t/σd
  // from the batch it was built for must score exactly 0; any sign or σd slip in the loss breaks this.
  const x0 = tf.tensor2d([[0.3, -0.2], [1, 0.5]]);
  const z = tf.tensor2d([[0.1, 0.4], [-0.6, 0.2]]);
  const t = tf.tensor1d([0.4, 1.2]);
  const oracle: FlowNetwork = {
    params: null as never,
    apply: () => {
      const c = tf.reshape(tf.cos(t), [2, 1]);
      const s = tf.reshape(tf.sin(t), [2, 1]);
      return tf.div(tf.sub(tf.mul(c, z), tf.mul(s, x0)), SIGMA_D) as never;
    },
    logvar: () => tf.zeros([2]),
    weightHeadNames: [],
    dispose: () => {},
  };
  assertClose(diffusionLoss(oracle, x0, z, t).dataSync()[0], 0, 1e-12);
});

test("the exact F* of a Gaussian mixture minimises the diffusion loss: scaling it either way costs more", () => {
  const mix = createMixture([[0.5, 0], [-0.5, 0]], 0.1);
  const exact = exactFlowNetwork(mix);
  const asNetwork = (F: (u: Float64Array, t: number) => Float64Array): FlowNetwork => ({
    params: null as never,
    apply: (_alg, u, t) => {
      const uu = (u as tf.Tensor).arraySync() as number[][];
      const tt = (t as tf.Tensor).arraySync() as number[];
      return tf.tensor2d(uu.map((row, i) => Array.from(F(Float64Array.from(row), tt[i])))) as never;
    },
    logvar: () => tf.zeros([1]),
    weightHeadNames: [],
    dispose: () => {},
  });
  const n = 2000;
  const x0 = tf.tensor2d(Float32Array.from(sampleMixture(mix, n, createRng(3)).points), [n, 2]);
  const z = tf.randomNormal([n, 2], 0, SIGMA_D, "float32", 1);
  const t = tf.randomUniform([n], 0.05, 1.5, "float32", 2);
  // F* is the posterior mean of v_t/σd, the minimiser of the expected loss; ±20% of it adds 0.04·E|σd F*|²
  // in expectation, far above the Monte-Carlo noise of the cross term at n = 2000.
  const loss = (scale: number) => diffusionLoss(asNetwork((u, tt) => exact(u, tt).map((f) => scale * f)), x0, z, t).dataSync()[0];
  const best = loss(1);
  assert.ok(best < loss(0.8) && best < loss(1.2), `loss(F*) = ${best}, loss(0.8F*) = ${loss(0.8)}, loss(1.2F*) = ${loss(1.2)}`);
  assert.ok(best < 0.7 * loss(0), `F* beats the zero network: ${best} vs ${loss(0)}`);
  void plainAlgebra;
});

test("training a small MLP on a mixture lowers the diffusion loss and leaks no tensors", async () => {
  const mix = createMixture([[0.5, 0.5], [-0.5, -0.5]], 0.1);
  const network = { hidden: 32, blocks: 1, groups: 4, timeEmbedding: { kind: "positional", dim: 16 } } as const;
  const run = new ToyRun(mix, { ...DEFAULT_TOY_RUN, objective: "teacher", network, batch: 128, learningRate: 3e-3, seed: 1 });
  await run.step();
  const before = tf.memory().numTensors;
  const losses: number[] = [];
  while (run.iteration < 150) losses.push((await run.step()).loss);
  assert.equal(tf.memory().numTensors, before, "no tensors leak across training steps");
  // Single-batch losses are noisy: compare averages of the first 10 steps and the last 30 (the floor is the
  // irreducible conditional variance, ≈ 0.145).
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  const first = mean(losses.slice(0, 10));
  const last = mean(losses.slice(-30));
  assert.ok(last < 0.9 * first, `loss fell from ${first} to ${last}`);
  run.dispose();
});
