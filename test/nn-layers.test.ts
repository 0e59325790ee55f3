import { test } from "node:test";
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { dualAlgebra, plainAlgebra } from "../src/components/nn/algebra.ts";
import {
  AdaptiveGroupNorm, Conv2d, Dense, Dropout, FourierEmbedding, GroupNorm, PositionalEmbedding, SelfAttention, cNoise,
  downsample2x, pixelNorm, residual, silu, type CNoiseKind,
} from "../src/components/nn/layers.ts";
import { ParameterSet, normal } from "../src/components/nn/parameters.ts";
import { checkJvp, dualPass } from "./jvp-check.ts";
import { assertClose } from "./helpers.ts";

await tf.setBackend("cpu");
const params = new ParameterSet(1);
const randn = (shape: number[], seed: number, std = 1) => tf.randomNormal(shape, 0, std, "float32", seed);
const image = randn([2, 8, 8, 4], 1);
const vector = randn([3, 8], 2);

test("dense layer", () => {
  const dense = new Dense(params, "dense", 8, 5);
  checkJvp("dense", (alg, [x]) => dense.apply(alg, x), [vector]);
});

test("convolutions: 3×3 and 1×1, stride 1 and 2", () => {
  for (const [kernel, stride] of [[3, 1], [3, 2], [1, 1], [1, 2]] as const) {
    const conv = new Conv2d(params, `conv${kernel}s${stride}`, 4, 6, kernel, { stride });
    checkJvp(`conv ${kernel}×${kernel} stride ${stride}`, (alg, [x]) => conv.apply(alg, x), [image]);
    assert.deepEqual(conv.apply(plainAlgebra, image).shape, [2, 8 / stride, 8 / stride, 6]);
  }
});

test("SiLU", () => checkJvp("silu", (alg, [x]) => silu(alg, x), [randn([4, 16], 3, 3)]));

test("group norm on images and on vectors; it normalises each group", () => {
  const gnImage = new GroupNorm(params, "gn-image", 4, 2);
  const gnVector = new GroupNorm(params, "gn-vector", 8, 4);
  checkJvp("group norm NHWC", (alg, [x]) => gnImage.apply(alg, x), [image]);
  checkJvp("group norm [B, C]", (alg, [x]) => gnVector.apply(alg, x), [vector]);
  const y = gnImage.apply(plainAlgebra, image).reshape([2, 64, 2, 2]);
  assertClose(tf.mean(y, [1, 3]).dataSync(), [0, 0, 0, 0], 1e-5, "group means");
  assertClose(tf.mean(tf.square(y), [1, 3]).dataSync(), [1, 1, 1, 1], 1e-3, "group variances (ε = 1e-5 shrinks them slightly)");
});

test("pixel norm gives unit mean square per position", () => {
  checkJvp("pixel norm", (alg, [x]) => pixelNorm(alg, x), [image]);
  assertClose(tf.mean(tf.square(pixelNorm(plainAlgebra, image)), -1).dataSync(), new Array(2 * 8 * 8).fill(1), 1e-5);
});

test("adaptive double normalisation and plain AdaGN, as functions of both x and the embedding", () => {
  const emb = randn([2, 6], 4);
  for (const kind of ["double", "adagn"] as const) {
    const norm = new AdaptiveGroupNorm(params, `ada-${kind}`, 4, 6, kind, 2);
    checkJvp(`adaptive norm ${kind}`, (alg, [x, e]) => norm.apply(alg, x, e), [image, emb]);
  }
  // Double normalisation bounds the modulation: pnorm(s) has unit RMS whatever the embedding's size.
  const double = new AdaptiveGroupNorm(params, "ada-scale-check", 4, 6, "double", 2);
  const small = double.apply(plainAlgebra, image, tf.mul(emb, 1));
  const huge = double.apply(plainAlgebra, image, tf.mul(emb, 1000));
  assertClose(huge.dataSync(), small.dataSync(), 1e-3, "double norm is invariant to the embedding's scale");
});

test("dropout: one mask, shared by value and tangent, and reproducible from the seed", () => {
  const drop = new Dropout(0.5, 3);
  const x = tf.add(tf.abs(randn([4, 32], 5)), 0.1);
  const xDot = randn([4, 32], 6);
  const out = dualPass((alg, [v]) => drop.apply(alg, v, 1234), [x], [xDot]);
  const mask = tf.div(out.value, x);
  assertClose(out.tangent.dataSync(), tf.mul(mask, xDot).dataSync(), 1e-6, "tangent uses the value's mask");
  const kept = mask.dataSync().filter((m) => m > 0);
  assert.ok(kept.every((m) => Math.abs(m - 2) < 1e-6), "kept units are scaled by 1/(1 − rate)");
  assert.ok(kept.length > 32 && kept.length < 96, `about half kept: ${kept.length}/128`);
  assert.deepEqual(drop.apply(plainAlgebra, x, 1234).dataSync(), out.value.dataSync());
  assert.notDeepEqual(drop.apply(plainAlgebra, x, 4321).dataSync(), out.value.dataSync());
  assert.deepEqual(drop.apply(plainAlgebra, x, null).dataSync(), x.dataSync(), "no seed: evaluation mode");
  checkJvp("dropout", (alg, [v]) => drop.apply(alg, v, 77), [x]);
});

test("c_noise variants and their derivatives (§4.1)", () => {
  const t = tf.tensor1d([0.1, 0.5, 1.0, 1.4]);
  for (const kind of ["identity", "logSigma", "scaled1000"] as CNoiseKind[]) {
    checkJvp(`c_noise ${kind}`, (alg, [x]) => cNoise(alg, x, kind), [t], { h: kind === "logSigma" ? 0.01 : 0.02 });
  }
  // sin t·∂c/∂t: bounded for identity, 1/(4 cos t) for log σ, 1000·sin t for ×1000.
  const derivative = (kind: CNoiseKind) => dualPass((alg, [x]) => cNoise(alg, x, kind), [t], [tf.onesLike(t)]).tangent.dataSync();
  const ts = [0.1, 0.5, 1.0, 1.4];
  assertClose(derivative("identity"), [1, 1, 1, 1], 0);
  assertClose(derivative("logSigma"), ts.map((v) => 1 / (4 * Math.sin(v) * Math.cos(v))), 1e-4);
  assertClose(derivative("scaled1000"), [1000, 1000, 1000, 1000], 0);
});

test("positional and Fourier time embeddings", () => {
  const t = tf.tensor1d([0.05, 0.7, 1.5]);
  const positional = new PositionalEmbedding(16);
  checkJvp("positional embedding", (alg, [x]) => positional.apply(alg, x), [t]);
  const fourier = new FourierEmbedding(params, "fourier", 16, 16);
  // Fourier features with s = 16 oscillate fast (∂emb/∂t up to 2π·16·|ω|), so the finite difference needs a small step.
  checkJvp("Fourier embedding s=16", (alg, [x]) => fourier.apply(alg, x), [t], { h: 1e-3, fdTol: 2e-3 });
  const speed = (emb: { apply: typeof positional.apply }) =>
    tf.max(tf.abs(dualPass((alg, [x]) => emb.apply(alg, x), [t], [tf.onesLike(t)]).tangent)).dataSync()[0];
  assert.ok(speed(positional) <= 1 + 1e-6, "positional frequencies are ≤ 1");
  assert.ok(speed(fourier) > 50, `Fourier s = 16 moves much faster: ${speed(fourier)}`);
});

test("self-attention with one and two heads (the attention JVP of §5.1)", () => {
  for (const heads of [1, 2]) {
    const attention = new SelfAttention(params, `attn${heads}`, 4, heads, 1);
    checkJvp(`attention, ${heads} head(s)`, (alg, [x]) => attention.apply(alg, x), [randn([2, 4, 4, 4], 8)]);
  }
});

test("self-attention equals softmax(q·kᵀ/√d)·v written out, for one head (no transposes) and for two", () => {
  for (const heads of [1, 2]) {
    const attention = new SelfAttention(params, `attnref${heads}`, 4, heads, 1);
    const x = randn([2, 3, 3, 4], 12);
    const got = tf.tidy(() => attention.apply(plainAlgebra, x));
    const want = tf.tidy(() => {
      const [b, h, w, c] = x.shape;
      const d = c / heads;
      const qkv = tf.reshape(attention.qkv.apply(plainAlgebra, attention.norm.apply(plainAlgebra, x)), [b, h * w, 3 * c]);
      const perHead = Array.from({ length: heads }, (_, i) => {
        const part = (j: number) => tf.slice(qkv, [0, 0, j * c + i * d], [b, h * w, d]) as tf.Tensor3D;
        return tf.matMul(tf.softmax(tf.div(tf.matMul(part(0), part(1), false, true), Math.sqrt(d))), part(2));
      });
      const merged = tf.reshape(tf.concat(perHead, 2), [b, h, w, c]);
      return tf.mul(tf.add(attention.proj.apply(plainAlgebra, merged), x), Math.SQRT1_2);
    });
    assertClose(got.dataSync(), want.dataSync(), 1e-6, `${heads} head(s)`);
    tf.dispose([x, got, want]);
  }
});

test("2× upsample, 2× average downsample, residual sum, concatenation", () => {
  checkJvp("upsample", (alg, [x]) => alg.upsampleNearest2x(x), [image]);
  checkJvp("downsample", (alg, [x]) => downsample2x(alg, x), [image]);
  checkJvp("residual", (alg, [a, b]) => residual(alg, silu(alg, a), b), [image, randn([2, 8, 8, 4], 9)]);
  checkJvp("concat", (alg, [a, b]) => silu(alg, alg.concat([a, b], 3)), [image, randn([2, 8, 8, 2], 10)]);
  const up = plainAlgebra.upsampleNearest2x(tf.tensor4d([[[[1], [2]], [[3], [4]]]]));
  assert.deepEqual(Array.from(up.dataSync()), [1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4]);
  assert.deepEqual(Array.from(downsample2x(plainAlgebra, up).dataSync()), [1, 2, 3, 4]);
  // Its gradient sums each 2×2 block of the incoming gradient, per image and channel: here two images of two
  // channels, the incoming gradient 0…63 over [2, 4, 4, 2] (TF.js's CPU ResizeNearestNeighborGrad fails this
  // for the second image, so nearest-upsample.ts writes its own).
  const incoming = tf.range(0, 64).reshape([2, 4, 4, 2]);
  const [dx] = tf.grads((x: tf.Tensor) => tf.sum(tf.mul(plainAlgebra.upsampleNearest2x(x), incoming)))([tf.zeros([2, 2, 2, 2])]);
  const g = incoming.arraySync() as number[][][][];
  const blockSums = [0, 1].flatMap((b) => [0, 1].flatMap((i) => [0, 1].flatMap((j) => [0, 1].map((c) => g[b][2 * i][2 * j][c] + g[b][2 * i][2 * j + 1][c] + g[b][2 * i + 1][2 * j][c] + g[b][2 * i + 1][2 * j + 1][c]))));
  assert.deepEqual(Array.from(dx.dataSync()), blockSums);
});

test("dual primitives: product rule and softmax derivative match hand-computed values", () => {
  const a = { value: tf.tensor1d([2, 3]), tangent: tf.tensor1d([1, -1]) };
  const b = { value: tf.tensor1d([5, 7]), tangent: tf.tensor1d([0.5, 2]) };
  assertClose(dualAlgebra.mul(a, b).tangent.dataSync(), [1 * 5 + 2 * 0.5, -1 * 7 + 3 * 2], 1e-6);
  // softmax of [0, 0] is [½, ½]; moving the first logit by +1 moves p by [¼, −¼].
  const s = dualAlgebra.softmax({ value: tf.tensor2d([[0, 0]]), tangent: tf.tensor2d([[1, 0]]) });
  assertClose(s.tangent.dataSync(), [0.25, -0.25], 1e-7);
});

test("a parameter set saves and loads by name, and refuses a checkpoint of another shape", async () => {
  const a = new ParameterSet(5);
  a.create("w", [2, 3], normal(1));
  a.create("b", [3], normal(1));
  const b = new ParameterSet(6);
  b.create("w", [2, 3], normal(1));
  b.create("b", [3], normal(1));
  b.load(await a.save());
  assert.deepEqual(b.get("w").dataSync(), a.get("w").dataSync());
  const c = new ParameterSet(7);
  c.create("w", [3, 2], normal(1));
  assert.throws(() => c.load({ w: { shape: [2, 3], data: new Float32Array(6) } }), /"w" has shape \[2,3\], expected \[3,2\]/);
  assert.throws(() => c.load({ w: { shape: [3, 2], data: new Float32Array(6) }, extra: { shape: [1], data: new Float32Array(1) } }), /unexpected "extra"/);
  assert.throws(() => c.load({}), /missing "w"/);
  assert.throws(() => a.create("w", [1], normal(1)), /defined twice/);
});
