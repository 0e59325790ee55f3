import { test } from "node:test";
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { FusedAdam } from "../src/components/training/fused-adam.ts";
import { createRng, normalArray } from "../src/components/math/rng.ts";
import { assertClose } from "./helpers.ts";

await tf.setBackend("cpu");

/** Float64 reference of PyTorch's RAdam for one scalar parameter and a gradient function. */
function reference(theta0: number, grad: (theta: number) => number, steps: number, lr: number, b1: number, b2: number, eps: number): number[] {
  let theta = theta0;
  let m = 0;
  let v = 0;
  const rhoInf = 2 / (1 - b2) - 1;
  const path: number[] = [];
  for (let k = 1; k <= steps; k++) {
    const g = grad(theta);
    m = b1 * m + (1 - b1) * g;
    v = b2 * v + (1 - b2) * g * g;
    const mHat = m / (1 - b1 ** k);
    const rho = rhoInf - (2 * k * b2 ** k) / (1 - b2 ** k);
    if (rho > 5) {
      const r = Math.sqrt(((rho - 4) * (rho - 2) * rhoInf) / ((rhoInf - 4) * (rhoInf - 2) * rho));
      theta -= (lr * mHat * r * Math.sqrt(1 - b2 ** k)) / (Math.sqrt(v) + eps);
    } else {
      theta -= lr * mHat;
    }
    path.push(theta);
  }
  return path;
}

test("rectified: RAdam matches PyTorch's update rule, through the un-rectified warm-up and after it", () => {
  // f(θ) = (θ − 3)²·½·c with c = 4: gradient 4(θ − 3). β2 = 0.9 makes ρ_k > 5 from step 6 on, so both branches run.
  const theta = tf.variable(tf.scalar(0.5));
  const optimizer = new FusedAdam(0.05, { rectified: true, beta1: 0.9, beta2: 0.9, epsilon: 1e-8 });
  const path: number[] = [];
  for (let k = 0; k < 20; k++) {
    optimizer.minimize(() => tf.mul(2, tf.square(tf.sub(theta, 3))) as tf.Scalar, false, [theta]);
    path.push(theta.dataSync()[0]);
  }
  const expected = reference(0.5, (x) => 4 * (x - 3), 20, 0.05, 0.9, 0.9, 1e-8);
  assertClose(path, expected, 1e-5); // float32 state vs float64 reference over 20 steps
  assertClose(path[0], 0.5 + 0.05 * 10, 1e-6, "step 1 is plain momentum: θ − lr·g");
  assert.ok(Math.abs(path[19] - 3) < Math.abs(0.5 - 3), "it moves toward the minimum");
  optimizer.dispose();
});

// ---- All parameters at once: bit-identical to the per-variable optimisers ----

/** Three variables of different shapes and a loss that couples them, so every gradient differs from step to step. */
function problem(seed: number) {
  const rng = createRng(seed);
  const make = (shape: number[]) => tf.variable(tf.tensor(Float32Array.from(normalArray(rng, shape.reduce((a, b) => a * b, 1), 1)), shape));
  const variables = [make([3, 4]), make([4]), make([2, 2, 3])];
  const target = tf.tensor(Float32Array.from(normalArray(rng, 12, 1)), [3, 4]);
  const loss = () =>
    tf.tidy(() => {
      const [w, b, c] = variables;
      const y = tf.add(tf.mul(w, tf.reshape(tf.sum(c, 0), [3, 2]).sum(1).reshape([3, 1])), b);
      return tf.add(tf.sum(tf.square(tf.sub(tf.sin(y), target))), tf.mul(0.1, tf.sum(tf.pow(c, 4)))) as tf.Scalar;
    });
  return { variables, loss, dispose: () => tf.dispose([...variables, target]) };
}

async function values(variables: tf.Variable[]): Promise<number[]> {
  return (await Promise.all(variables.map((v) => v.data()))).flatMap((d) => Array.from(d));
}

test("Adam over one vector takes exactly tf.train.adam's steps, bit for bit", async () => {
  const reference = problem(1);
  const fused = problem(1);
  const adam = tf.train.adam(0.01, 0.9, 0.99);
  const mine = new FusedAdam(0.01, { rectified: false, beta1: 0.9, beta2: 0.99 });
  for (let k = 0; k < 12; k++) {
    adam.minimize(reference.loss, false, reference.variables);
    mine.minimize(fused.loss, false, fused.variables);
  }
  assert.deepEqual(await values(fused.variables), await values(reference.variables));
  // A write from outside between steps (a restored snapshot, a loaded checkpoint) is what the next step starts
  // from, though the optimiser keeps θ as one vector between steps.
  for (const p of [reference, fused]) tf.tidy(() => p.variables.forEach((v, i) => v.assign(tf.mul(v, i + 2))));
  for (let k = 0; k < 3; k++) {
    adam.minimize(reference.loss, false, reference.variables);
    mine.minimize(fused.loss, false, fused.variables);
  }
  assert.deepEqual(await values(fused.variables), await values(reference.variables));
  adam.dispose();
  mine.dispose();
  reference.dispose();
  fused.dispose();
});

test("after its first step the optimiser flattens only the gradient: θ stays one vector between steps", async () => {
  const p = problem(3);
  const optimizer = new FusedAdam(0.01, { rectified: true });
  const concatenations = async () => (await tf.profile(() => void optimizer.minimize(p.loss, false, p.variables))).kernels.filter((k) => k.name === "ScmFlatten").length;
  assert.equal(await concatenations(), 2, "first step: the gradient and θ");
  assert.equal(await concatenations(), 1, "later steps: the gradient only");
  tf.tidy(() => p.variables[0].assign(tf.zerosLike(p.variables[0])));
  assert.equal(await concatenations(), 2, "after a write from outside θ is read again");
  optimizer.dispose();
  p.dispose();
});

test("a saved state resumes exactly, in Adam's layout [iter, m…, v…], and tf.train.adam reads it too", async () => {
  for (const rectified of [false, true]) {
    const straight = problem(2);
    const resumed = problem(2);
    const a = new FusedAdam(0.02, { rectified });
    const b = new FusedAdam(0.02, { rectified });
    for (let k = 0; k < 7; k++) {
      a.minimize(straight.loss, false, straight.variables);
      b.minimize(resumed.loss, false, resumed.variables);
    }
    const state = await b.getWeights();
    assert.deepEqual(state.map((w) => w.name), ["iter", "0/m", "1/m", "2/m", "0/v", "1/v", "2/v"]);
    assert.deepEqual(state.slice(1).map((w) => w.tensor.shape), [[3, 4], [4], [2, 2, 3], [3, 4], [4], [2, 2, 3]]);
    const fresh = new FusedAdam(0.02, { rectified });
    await fresh.setWeights(state);
    tf.dispose(state.map((w) => w.tensor)); // the state is the caller's: the optimiser keeps its own copy
    b.dispose();
    for (let k = 0; k < 5; k++) {
      a.minimize(straight.loss, false, straight.variables);
      fresh.minimize(resumed.loss, false, resumed.variables);
    }
    assert.deepEqual(await values(resumed.variables), await values(straight.variables), rectified ? "RAdam" : "Adam");
    a.dispose();
    fresh.dispose();
    straight.dispose();
    resumed.dispose();
  }
  // A state written by FusedAdam (Adam) resumes in tf.train.adam with the same next steps, to the last bit or two:
  // tf.train.adam recomputes β^k with pow where FusedAdam keeps the running product.
  const ours = problem(3);
  const theirs = problem(3);
  const fused = new FusedAdam(0.02, { rectified: false });
  for (let k = 0; k < 4; k++) fused.minimize(ours.loss, false, ours.variables);
  theirs.variables.forEach((v, i) => v.assign(ours.variables[i]));
  const state = await fused.getWeights();
  const adam = tf.train.adam(0.02, 0.9, 0.99);
  await adam.setWeights(state);
  for (let k = 0; k < 3; k++) {
    fused.minimize(ours.loss, false, ours.variables);
    adam.minimize(theirs.loss, false, theirs.variables);
  }
  assertClose(await values(ours.variables), await values(theirs.variables), 1e-6);
  fused.dispose();
  adam.dispose();
  ours.dispose();
  theirs.dispose();
});

test("one optimiser serves one list of variables; it leaks no tensors, from its first step to its disposal", () => {
  const { variables, loss, dispose } = problem(4);
  const start = tf.memory().numTensors;
  const optimizer = new FusedAdam(0.01, { rectified: true });
  optimizer.minimize(loss, false, variables);
  const before = tf.memory().numTensors;
  for (let k = 0; k < 10; k++) optimizer.minimize(loss, false, variables);
  assert.equal(tf.memory().numTensors, before);
  optimizer.dispose();
  assert.equal(tf.memory().numTensors, start, "the moments go with the optimiser");
  const other = new FusedAdam(0.01, { rectified: false });
  other.minimize(loss, false, variables);
  assert.throws(() => other.applyGradients(tf.variableGrads(loss, variables.slice(0, 2)).grads), /variables changed between steps/);
  other.dispose();
  dispose();
});
