/**
 * The strided CPU kernels (cpu-kernels.ts) must agree bit for bit with the TF.js kernels they replace: every
 * case runs once with TF.js's own kernels and once with the fast ones, and the float32 results must be equal
 * (NaN where NaN). Shapes cover broadcasting on leading, middle and trailing axes, scalars, size-0 tensors and
 * ranks up to 6.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { useFastCpuKernels } from "../src/components/runtime/cpu-kernels.ts";
import { ToyRun } from "../src/components/toy/toy-run.ts";
import { DEFAULT_TOY_RUN } from "../src/components/toy/toy-run-config.ts";
import { mixturePreset } from "../src/components/toy/mixture-presets.ts";
import { createRng } from "../src/components/math/rng.ts";

await tf.setBackend("cpu");
const rng = createRng(7);
const random = (shape: number[], dtype: "float32" | "int32" = "float32") => {
  const n = shape.reduce((a, b) => a * b, 1);
  const values = Array.from({ length: n }, () => (dtype === "int32" ? Math.floor(rng.uniform() * 21) - 10 : rng.normal() * 3));
  return tf.tensor(values, shape, dtype);
};

/** Runs `compute` (which must not draw random inputs itself) with TF.js's kernels and with the fast ones; the outputs must be identical. */
function assertSameBothWays(label: string, compute: () => tf.Tensor | tf.Tensor[]): void {
  const run = (fast: boolean) => {
    useFastCpuKernels(fast);
    return tf.tidy(() => [compute()].flat().map((t) => ({ shape: t.shape, dtype: t.dtype, values: Array.from(t.dataSync()) })));
  };
  const reference = run(false);
  const fast = run(true);
  assert.equal(fast.length, reference.length, label);
  fast.forEach((out, i) => {
    assert.deepEqual(out.shape, reference[i].shape, `${label}: shape`);
    assert.equal(out.dtype, reference[i].dtype, `${label}: dtype`);
    out.values.forEach((v, j) => {
      if (!Object.is(v, reference[i].values[j])) assert.fail(`${label}: element ${j} is ${v}, TF.js gives ${reference[i].values[j]}`);
    });
  });
}

test("the kernels are replaced and restored, and the fast ones differ from TF.js's own", () => {
  useFastCpuKernels(false);
  const original = tf.getKernel("Multiply", "cpu")!.kernelFunc;
  useFastCpuKernels(true);
  useFastCpuKernels(true); // idempotent
  assert.notEqual(tf.getKernel("Multiply", "cpu")!.kernelFunc, original);
  useFastCpuKernels(false);
  assert.equal(tf.getKernel("Multiply", "cpu")!.kernelFunc, original);
  useFastCpuKernels(true);
});

const BROADCAST_PAIRS: [number[], number[]][] = [
  [[3, 4], [3, 4]],
  [[3, 4], [3, 1]],
  [[3, 1], [3, 4]],
  [[5, 2], [2]],
  [[2], [5, 2]],
  [[], [2, 3]],
  [[2, 3], []],
  [[2, 1, 3, 1], [1, 5, 1, 4]],
  [[6, 1, 4, 1], [6, 1, 4, 3]],
  [[2, 3, 1, 2, 1, 2], [1, 3, 2, 1, 2, 1]],
  [[0, 3], [1, 3]],
  [[4, 1], [1]],
  [[1, 7], [3, 1]],
];

test("add, sub, mul and div agree with TF.js under every kind of broadcasting", () => {
  for (const [aShape, bShape] of BROADCAST_PAIRS) {
    const a = random(aShape);
    const b = random(bShape);
    assertSameBothWays(`add ${aShape} ${bShape}`, () => tf.add(a, b));
    assertSameBothWays(`sub ${aShape} ${bShape}`, () => tf.sub(a, b));
    assertSameBothWays(`mul ${aShape} ${bShape}`, () => tf.mul(a, b));
    assertSameBothWays(`div ${aShape} ${bShape}`, () => tf.div(a, b));
  }
});

test("division by zero, infinities and NaN propagate as in TF.js; int32 inputs take TF.js's own kernel", () => {
  const a = tf.tensor2d([[1, -1, 0], [Infinity, NaN, 2]]);
  const b = tf.tensor2d([[0], [Infinity]]);
  assertSameBothWays("div special values", () => tf.div(a, b));
  assertSameBothWays("mul special values", () => tf.mul(a, b));
  const i = random([3, 4], "int32");
  const j = random([3, 1], "int32");
  assertSameBothWays("int32 add", () => tf.add(i, j));
  assertSameBothWays("int32 floor division", () => tf.floorDiv(i, tf.add(tf.abs(j), 1)));
});

test("transpose agrees for every permutation of ranks 2 to 5, float32 and int32", () => {
  const permutations = (n: number): number[][] =>
    n === 1 ? [[0]] : permutations(n - 1).flatMap((p) => Array.from({ length: n }, (_, k) => [...p.slice(0, k), n - 1, ...p.slice(k)]));
  for (const shape of [[3, 5], [2, 3, 4], [2, 1, 3, 2], [2, 2, 1, 3, 2]]) {
    const x = random(shape);
    const xi = random(shape, "int32");
    for (const perm of permutations(shape.length)) {
      assertSameBothWays(`transpose ${shape} ${perm}`, () => tf.transpose(x, perm));
      assertSameBothWays(`transpose int32 ${shape} ${perm}`, () => tf.transpose(xi, perm));
    }
  }
});

test("slice and split agree along every axis, with sizes of −1 and uneven split sizes", () => {
  const x = random([4, 6, 5]);
  assertSameBothWays("slice middle", () => tf.slice(x, [1, 2, 1], [2, 3, 3]));
  assertSameBothWays("slice to the end", () => tf.slice(x, [0, 3, 0], [-1, -1, 2]));
  assertSameBothWays("slice contiguous rows", () => tf.slice(x, [2, 0, 0], [2, 6, 5]));
  const xi = random([5, 4], "int32");
  assertSameBothWays("slice int32", () => tf.slice(xi, [1, 1], [3, 2]));
  for (const axis of [0, 1, 2, -1]) assertSameBothWays(`split in 2 along ${axis}`, () => tf.split(tf.slice(x, [0, 0, 0], [4, 6, 4]), 2, axis));
  assertSameBothWays("split sizes [1, 3, 2]", () => tf.split(x, [1, 3, 2], 1));
  assertSameBothWays("split with −1", () => tf.split(x, [2, -1], 2));
});

test("sum and mean agree bit for bit over any set of axes, with and without kept dimensions", () => {
  // 300 elements per output in some cases, so summation order would show in the last bits if it differed.
  const x = random([3, 4, 5, 25]);
  for (const axes of [[0], [1], [3], [0, 2], [1, 3], [0, 1, 2, 3], [2, 3], [-1]]) {
    for (const keepDims of [false, true]) {
      assertSameBothWays(`sum ${axes} ${keepDims}`, () => tf.sum(x, axes, keepDims));
      assertSameBothWays(`mean ${axes} ${keepDims}`, () => tf.mean(x, axes, keepDims));
    }
  }
  assertSameBothWays("sum of all", () => tf.sum(x));
  const xi = random([4, 6], "int32");
  assertSameBothWays("int32 sum", () => tf.sum(xi, 0));
  assertSameBothWays("int32 mean", () => tf.mean(xi, 1));
  assertSameBothWays("bool sum", () => tf.sum(tf.greater(x, 0), [1, 2]));
  assertSameBothWays("moments over axes 1 and 3", () => Object.values(tf.moments(x, [1, 3], true)));
});

test("gradients through broadcasting ops agree", () => {
  const a = random([4, 1, 3]);
  const b = random([1, 5, 3]);
  const loss = (p: tf.Tensor, q: tf.Tensor) => tf.sum(tf.div(tf.mul(tf.sub(p, q), tf.add(p, q)), tf.add(tf.abs(q), 1)));
  assertSameBothWays("grads", () => tf.grads(loss)([a, b]));
});

test("three sCT steps of the 2-D toy model give the same losses and weights with either kernel set", async () => {
  const mixture = mixturePreset("ring", { modes: 8, spread: 0.06 });
  const train = async (fast: boolean) => {
    useFastCpuKernels(fast);
    const config = { ...DEFAULT_TOY_RUN, network: { hidden: 16, blocks: 1, groups: 4, timeEmbedding: { kind: "positional" as const, dim: 8 } }, batch: 32 };
    const teacher = new ToyRun(mixture, { ...config, objective: "teacher" });
    await teacher.step();
    const run = new ToyRun(mixture, { ...config, objective: "sct" }, teacher.ema);
    const losses: number[] = [];
    for (let i = 0; i < 3; i++) losses.push((await run.step()).loss);
    const weights = Object.values(await run.net.params.save()).flatMap((p) => Array.from(p.data));
    teacher.dispose();
    run.dispose();
    return { losses, weights };
  };
  const reference = await train(false);
  const fast = await train(true);
  assert.deepEqual(fast.losses, reference.losses);
  assert.deepEqual(fast.weights, reference.weights);
});
