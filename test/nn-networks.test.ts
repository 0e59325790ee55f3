import { test } from "node:test";
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { TimeConditionedMlp } from "../src/components/nn/mlp.ts";
import { SmallUNet } from "../src/components/nn/unet.ts";
import { forward, jvp, finiteDifferenceJvp, doubleVjpJvp, type FlowNetwork } from "../src/components/nn/network.ts";
import { checkJvp } from "./jvp-check.ts";
import { assertClose } from "./helpers.ts";

await tf.setBackend("cpu");
const randn = (shape: number[], seed: number, std = 1) => tf.randomNormal(shape, 0, std, "float32", seed);
const times = (n: number, seed: number) => tf.randomUniform([n], 0.1, 1.45, "float32", seed);

// Nets are built with outputGain 1 so the tangent is not artificially tiny.
const tinyUNet = (extra = {}) => new SmallUNet({ resolution: 8, baseChannels: 8, channelMult: [1, 2], attentionResolutions: [4], outputGain: 1, ...extra });

test("MLP: exact JVP in (u, t) for double norm, AdaGN and additive conditioning, positional and Fourier time", () => {
  for (const [norm, kind] of [["double", "positional"], ["adagn", "positional"], ["none", "positional"], ["double", "fourier"]] as const) {
    const net = new TimeConditionedMlp({ norm, timeEmbedding: { kind, dim: 32, fourierScale: 16 }, outputGain: 1, dropout: 0.2 });
    const u = randn([6, 2], 1);
    const t = times(6, 2);
    // The first group norm sees W·u, which is scale-invariant in u, so F bends sharply where |u| is small;
    // Fourier s = 16 makes F oscillate in t at up to ~300 rad per unit of t (h = 1e-4). Both need a fine step (measured: error 3e-4 at h = 1e-3,
    // 1e-2 at h = 5e-3, O(1) at h = 2e-2), while the exact JVP agrees with the double-VJP to 4e-6.
    checkJvp(`MLP ${norm}/${kind}`, (alg, [x, s]) => net.apply(alg, x, s, { dropoutSeed: 5 }), [u, t], { h: kind === "fourier" ? 1e-4 : 1e-3, fdTol: 2e-3 });
    net.dispose();
  }
});

test("UNet: exact JVP with attention, both resamplings, skips and dropout", () => {
  const net = tinyUNet({ dropout: 0.2 });
  checkJvp("UNet", (alg, [x, s]) => net.apply(alg, x, s, { dropoutSeed: 11 }), [randn([2, 8, 8, 3], 3), times(2, 4)], { fdTol: 2e-3 });
  net.dispose();
});

test("the jvp() entry point agrees with finite differences and the double-VJP on a UNet", () => {
  const net = tinyUNet();
  const u = randn([2, 8, 8, 3], 5);
  const t = times(2, 6);
  const uDot = randn([2, 8, 8, 3], 7);
  const tDot = randn([2], 8);
  const { value, tangent } = jvp(net, u, t, uDot, tDot);
  assertClose(value.dataSync(), forward(net, u, t).dataSync(), 0, "value = forward");
  const scale = Math.max(1, tf.max(tf.abs(tangent)).dataSync()[0]);
  assertClose(tangent.dataSync(), doubleVjpJvp(net, u, t, uDot, tDot).dataSync(), 1e-4 * scale, "double-VJP");
  // A plain central difference at ε = 1e-2 has truncation error ~ε²·|F'''| ≈ 1e-3 here.
  assertClose(tangent.dataSync(), finiteDifferenceJvp(net, u, t, uDot, tDot, 1e-2).dataSync(), 1e-2 * scale, "finite difference");
  net.dispose();
});

test("no tensor leaks: 100 JVP calls leave tf.memory().numTensors unchanged", () => {
  for (const net of [new TimeConditionedMlp({ dropout: 0.1 }), tinyUNet({ dropout: 0.1 })] as FlowNetwork[]) {
    const isImage = net instanceof SmallUNet;
    const u = isImage ? randn([1, 8, 8, 3], 1) : randn([16, 2], 1);
    const t = times(isImage ? 1 : 16, 2);
    const uDot = tf.onesLike(u);
    const tDot = tf.onesLike(t);
    // The first call may create lasting tensors (kernels' caches); count from the second.
    tf.dispose(jvp(net, u, t, uDot, tDot, { dropoutSeed: 0 }));
    const before = tf.memory().numTensors;
    for (let i = 0; i < 100; i++) tf.dispose(jvp(net, u, t, uDot, tDot, { dropoutSeed: i }));
    assert.equal(tf.memory().numTensors, before, `${isImage ? "UNet" : "MLP"} leaked`);
    net.dispose();
  }
});

test("stop-gradient: jvp() refuses to run inside a gradient tape; the plain pass trains every parameter", () => {
  const net = new TimeConditionedMlp();
  const u = randn([4, 2], 1);
  const t = times(4, 2);
  assert.throws(() => tf.variableGrads(() => tf.sum(jvp(net, u, t, u, t).tangent)), /inside a gradient tape/);
  // The tangent computed outside is a constant to the tape: the gradient of ⟨F_θ, g⟩ is Jᵀ_θ g exactly.
  const g = jvp(net, u, t, tf.onesLike(u), tf.onesLike(t)).tangent;
  // w_φ is a separate head: F does not depend on it.
  assert.deepEqual(net.weightHeadNames, ["logvar.weight", "logvar.bias"]);
  assert.ok(net.weightHeadNames.every((n) => net.params.names().includes(n)));
  const trainable = net.params.trainableVariables((name) => net.weightHeadNames.includes(name));
  const { grads } = tf.variableGrads(() => tf.sum(tf.mul(forward(net, u, t), g)) as tf.Scalar, trainable);
  assert.equal(Object.keys(grads).length, trainable.length, "every parameter of F receives a gradient");
  net.dispose();
});

test("networks save and load their parameters by name", async () => {
  const a = tinyUNet({ seed: 1 });
  const b = tinyUNet({ seed: 2 });
  const u = randn([1, 8, 8, 3], 1);
  const t = times(1, 2);
  assert.notDeepEqual(forward(a, u, t).dataSync(), forward(b, u, t).dataSync());
  b.params.load(await a.params.save());
  assert.deepEqual(forward(a, u, t).dataSync(), forward(b, u, t).dataSync());
  const other = new SmallUNet({ resolution: 8, baseChannels: 16, channelMult: [1, 2] });
  assert.throws(() => other.params.load((a.params as never as { save(): never }).save()), Error);
  await assert.rejects(async () => other.params.load(await a.params.save()), /checkpoint does not fit this network/);
  for (const n of [a, b, other]) n.dispose();
});

test("the logvar head maps time to one weight per sample and starts at zero", () => {
  const net = new TimeConditionedMlp();
  const w = net.logvar(tf.tensor1d([0.1, 0.8, 1.5]));
  assert.deepEqual(w.shape, [3]);
  assert.deepEqual(Array.from(w.dataSync()), [0, 0, 0]);
  net.dispose();
});

test("UNet shapes: output matches input at 32×32×3 with the default configuration", () => {
  const net = new SmallUNet({ baseChannels: 16 });
  assert.deepEqual(forward(net, randn([2, 32, 32, 3], 1), times(2, 2)).shape, [2, 32, 32, 3]);
  assert.ok(net.params.names().some((n) => n.includes("attn")), "attention at 16×16");
  net.dispose();
});
