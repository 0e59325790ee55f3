/**
 * The fused group norm's WGSL programs (nn/kernels/group-norm-webgpu.ts) on TF.js's WebGPU backend (Dawn, see
 * setup.ts), and the convolution with its bias in one kernel (nn/conv-bias.ts): equal to the composed TF.js ops in value, tangent and gradient, for constant and per-sample scales,
 * with and without SiLU, on groups smaller and larger than a workgroup; the residual (a + b)·s (nn/fused-residual.ts)
 * and flatten/unflatten (training/flat-kernels.ts), exactly. Same tolerance and reasoning as the CPU
 * test (test/fused-group-norm.test.ts): float32 in both, summed in different orders.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import "@tensorflow/tfjs-backend-webgpu";
import { GROUP_NORM_CASES, compareWithComposed } from "../fused-group-norm-check.ts";
import { CONV_CASES, compareConvWithComposed } from "../conv-bias-check.ts";
import { countKernels } from "../../src/components/runtime/kernel-count.ts";
import { plainAlgebra } from "../../src/components/nn/algebra.ts";
import { normalizeAffine, residual } from "../../src/components/nn/layers.ts";
import { fusedScaledAdd } from "../../src/components/nn/fused-residual.ts";
import { checkScaledAdd, checkScaledAddKernels } from "../scaled-add-check.ts";
import { flatten, unflatten } from "../../src/components/training/flat-kernels.ts";
import { createRng, normalArray } from "../../src/components/math/rng.ts";
import { FLAT_SHAPES, checkGradients, checkNoLeaks, checkValues } from "../flat-kernels-check.ts";
import { MASK_CASES, checkMaskKernels, checkMaskMatchesJavaScript } from "../dropout-mask-check.ts";

const TOLERANCE = 1e-5;

test("WebGPU: the fused group norm equals the composed ops in value, tangent and gradient", async () => {
  await tf.setBackend("webgpu");
  await tf.ready();
  // NHWC images (a workgroup per group) and [B, C] vectors (a thread per group).
  for (const c of GROUP_NORM_CASES) {
    const r = await compareWithComposed(c);
    for (const [what, error] of [["value", r.value], ["tangent", r.tangent], ...r.grads.map((e, i) => [`gradient ${i}`, e] as const)] as const) {
      assert.ok(error < TOLERANCE, `${c.shape} ${c.affine} ${c.activation}: ${what} relative error ${error}`);
    }
    assert.equal(r.kernels, r.expectedKernels);
  }
});

test("WebGPU: a fused group norm is one dispatch forward and four with its gradient", async () => {
  await tf.setBackend("webgpu");
  const x = tf.randomNormal([2, 8, 8, 16]);
  const scale = tf.ones([2, 16]);
  const shift = tf.zeros([2, 16]);
  const f = (xx: tf.Tensor, s: tf.Tensor, b: tf.Tensor) => normalizeAffine(plainAlgebra, xx, { kind: "varying", scale: s, shift: b }, 4, 1e-5, "silu");
  const forward = await countKernels(() => tf.tidy(() => f(x, scale, shift)).data());
  assert.equal(forward.dispatches, 1);
  const both = await countKernels(async () => {
    const grads = tf.grads(f)([x, scale, shift]);
    await grads[0].data();
    tf.dispose(grads);
  });
  // forward 1, gradient 3 (dx, dscale, dshift), plus TF.js's ones for dy (a Fill)
  assert.ok(both.dispatches !== null && both.dispatches <= 5, `dispatches ${both.dispatches}: ${JSON.stringify(both.dispatchesByProgram)}`);
  tf.dispose([x, scale, shift]);
});

test("WebGPU: an image's group norm runs a workgroup per (sample, group), a vector's (the MLP's [B, C]) a thread per (sample, group)", async () => {
  await tf.setBackend("webgpu");
  const backend = tf.backend() as unknown as { runWebGPUProgram: (program: { shaderKey: string; dispatch: number[] }, ...rest: unknown[]) => unknown };
  const original = backend.runWebGPUProgram;
  const launched: { key: string; workgroups: number }[] = [];
  backend.runWebGPUProgram = function (this: unknown, program, ...rest) {
    launched.push({ key: program.shaderKey, workgroups: program.dispatch[0] * program.dispatch[1] * program.dispatch[2] });
    return original.call(this, program, ...rest);
  };
  const norm = async (shape: number[], groups: number) => {
    launched.length = 0;
    const [x, scale, shift] = [tf.randomNormal(shape), tf.ones([shape.at(-1)!]), tf.zeros([shape.at(-1)!])];
    await tf.tidy(() => normalizeAffine(plainAlgebra, x, { kind: "const", scale, shift }, groups, 1e-5, "silu")).data();
    tf.dispose([x, scale, shift]);
    return launched.filter((l) => l.key.startsWith("scm_group_norm"));
  };
  try {
    const image = await norm([2, 8, 8, 16], 4);
    assert.equal(image.length, 1);
    assert.match(image[0].key, /_workgroup_/);
    assert.equal(image[0].workgroups, 2 * 4);
    const vector = await norm([512, 32], 4);
    assert.equal(vector.length, 1);
    assert.match(vector[0].key, /_thread_/);
    assert.equal(vector[0].workgroups, Math.ceil((512 * 4) / 64));
  } finally {
    backend.runWebGPUProgram = original;
  }
});

test("WebGPU: a convolution with its bias in one kernel equals conv + bias in value and gradients", async () => {
  await tf.setBackend("webgpu");
  for (const c of CONV_CASES) {
    const error = await compareConvWithComposed(c);
    // the GPU adds the bias inside the convolution's program; same float32 sums otherwise
    assert.ok(error < 1e-5, `conv ${c.kernel}×${c.kernel} stride ${c.stride}: relative error ${error}`);
  }
});

test("WebGPU: more workgroups than one dispatch dimension holds (65,535) are spread over a grid and still right", async () => {
  await tf.setBackend("webgpu");
  // the packed gradient runs one workgroup per entry of [B, 2C]: 129 · 2 · 256 = 66,048
  const r = await compareWithComposed({ shape: [129, 1, 1, 256], groups: 32, affine: "adagn", activation: "none" });
  for (const [what, error] of [["value", r.value], ["tangent", r.tangent], ...r.grads.map((e, i) => [`gradient ${i}`, e] as const)] as const) {
    assert.ok(error < TOLERANCE, `${what}: relative error ${error}`);
  }
});

test("WebGPU: flatten and unflatten (training/flat-kernels.ts) equal the composed ops as buffer copies, launch no GPU program, and leak nothing", async () => {
  await tf.setBackend("webgpu");
  await checkValues();
  await checkGradients();
  await checkNoLeaks();
  // Tensors of ≥ 1,000 values made by a program: smaller ones still on the CPU side TF.js concatenates on the CPU.
  const shapes = FLAT_SHAPES.map((s) => [...s, 1000]);
  const tensors = shapes.map((s) => tf.tidy(() => tf.mul(tf.ones(s), 2)));
  const composed = await countKernels(() => tf.tidy(() => tf.split(tf.concat(tensors.map((t) => tf.reshape(t, [-1]))), shapes.map((s) => s.reduce((a, b) => a * b, 1))).map((p, i) => tf.reshape(p, shapes[i]))).at(-1)!.data());
  const fused = await countKernels(() => tf.tidy(() => unflatten(flatten(tensors), shapes)).at(-1)!.data());
  assert.equal(fused.total, 2);
  assert.ok(composed.dispatches! > 0);
  assert.equal(fused.dispatches, 0, `GPU programs: ${JSON.stringify(fused.dispatchesByProgram)}`);
  tf.dispose(tensors);
});

test("WebGPU: 150 tensors of the UNet's kinds of shapes: flatten = concat bit for bit, copies ordered with the programs around them", async () => {
  await tf.setBackend("webgpu");
  const rng = createRng(11);
  const shapes = Array.from({ length: 150 }, (_, i) => (i % 3 === 0 ? [3, 3, 1 + (i % 7), 2 + (i % 5)] : i % 3 === 1 ? [1 + (i % 13)] : [1 + (i % 4), 5]));
  const gpuBytes = () => (tf.memory() as tf.MemoryInfo & { numBytesInGPU: number }).numBytesInGPU;
  const before = { tensors: tf.memory().numTensors, gpu: gpuBytes() };
  // Inputs made by programs just before (so the copies must follow them), one still on the CPU side (uploaded first).
  const sources = shapes.map((shape, i) => tf.tidy(() => (i === 7 ? tf.tensor(Float32Array.from(normalArray(rng, shape.reduce((a, b) => a * b, 1), 1)), shape) : tf.mul(tf.randomNormal(shape, 0, 1, "float32", i), 3))));
  const flat = flatten(sources);
  const concat = tf.tidy(() => tf.concat(sources.map((t) => tf.reshape(t, [-1]))));
  assert.deepEqual(Array.from(await flat.data()), Array.from(await concat.data()));
  // A program right after the copies reads what they wrote.
  const shifted = tf.add(flat, 1) as tf.Tensor1D;
  const pieces = unflatten(shifted, shapes);
  const back = pieces.map((p) => tf.sub(p, 1));
  const expected = sources.map((x) => tf.tidy(() => tf.sub(tf.add(x, 1), 1)));
  for (const [i, p] of back.entries()) {
    assert.deepEqual(p.shape, shapes[i]);
    assert.deepEqual(Array.from(await p.data()), Array.from(await expected[i].data()), `piece ${i}`);
  }
  tf.dispose([...sources, flat, concat, shifted, ...pieces, ...back, ...expected]);
  assert.deepEqual({ tensors: tf.memory().numTensors, gpu: gpuBytes() }, before);
  // An empty piece (a 0-byte buffer and copy, which WebGPU allows) leaves the others right.
  const small = tf.tidy(() => tf.mul(tf.range(0, 10), 2)) as tf.Tensor1D;
  const withEmpty = unflatten(small, [[2, 3], [0, 3], [4]]);
  assert.deepEqual(withEmpty.map((p) => p.shape), [[2, 3], [0, 3], [4]]);
  assert.deepEqual(Array.from(await withEmpty[2].data()), [12, 14, 16, 18]);
  tf.dispose([small, ...withEmpty]);
});

test("WebGPU: the fused residual (a + b)·s equals the composed ops bit for bit, is one kernel and one program, and leaks nothing", async () => {
  await tf.setBackend("webgpu");
  await checkScaledAdd();
  await checkScaledAddKernels();
  const [a, b] = [tf.randomNormal([2, 8, 8, 16]), tf.randomNormal([2, 8, 8, 16])];
  const fused = await countKernels(() => tf.tidy(() => residual(plainAlgebra, a, b)).data());
  assert.equal(fused.dispatches, 1);
  // more workgroups than one grid dimension holds (65,535): TF.js spreads them, the program reads its linear index back
  const [big, other] = [tf.randomNormal([64 * 65_600 + 3]), tf.randomNormal([64 * 65_600 + 3])];
  const [got, want] = [fusedScaledAdd(big, other, 0.25)!, tf.mul(tf.add(big, other), 0.25)];
  assert.equal((await tf.max(tf.abs(tf.sub(got, want))).data())[0], 0);
  tf.dispose([a, b, big, other, got, want]);
});

test("WebGPU: the dropout-mask program gives JavaScript's mask bit for bit (past 65,535 workgroups too), in one dispatch", async () => {
  await tf.setBackend("webgpu");
  await checkMaskMatchesJavaScript([...MASK_CASES, { shape: [64, 32, 32, 64], seed: 5, rate: 0.2 }]);
  await checkMaskKernels();
});
