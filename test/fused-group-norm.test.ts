/**
 * The fused group norm (nn/fused-group-norm.ts) on the CPU and WASM backends (the same JavaScript over each one's
 * arrays): equal to the composed ops it replaces, in value, tangent and gradient, for constant and per-sample
 * scales, with and without SiLU, on images and on vectors; one kernel forward; no tensor leaks; the UNet and the
 * toy MLP give the same outputs either way.
 *
 * Tolerance: both paths compute in float32 but sum in different orders (the kernel in float64 over a group, TF.js
 * per reduction); the difference is a few float32 ulps of the largest intermediate, so 1e-5 of the output's
 * scale (≈ 80 ulps) — far below what a wrong sign, a missing r or a swapped mean would make (order 1).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import "@tensorflow/tfjs-backend-wasm";
import { GROUP_NORM_CASES, compareWithComposed, relativeError } from "./fused-group-norm-check.ts";
import { fusedGroupNorm, fusedGroupNormAvailable, withoutFusedGroupNorm } from "../src/components/nn/fused-group-norm.ts";
import { SmallUNet } from "../src/components/nn/unet.ts";
import { TimeConditionedMlp } from "../src/components/nn/mlp.ts";
import { forward, jvp } from "../src/components/nn/network.ts";
import { UNET_PRESETS } from "../src/components/image/image-run-config.ts";

const TOLERANCE = 1e-5;

test("the fused group norm's kernels are registered on the CPU backend", async () => {
  // (Importing the WASM backend makes it the default: the CPU is chosen explicitly.)
  assert.ok(await tf.setBackend("cpu"));
  assert.ok(fusedGroupNormAvailable());
  withoutFusedGroupNorm(() => assert.ok(!fusedGroupNormAvailable()));
  assert.ok(fusedGroupNormAvailable(), "the setting is restored");
});

for (const backend of ["cpu", "wasm"]) {
  for (const c of GROUP_NORM_CASES) {
    test(`fused = composed on ${backend}: ${c.shape} in ${c.groups} groups, ${c.affine} scale, ${c.activation}`, async () => {
      assert.ok(await tf.setBackend(backend));
      assert.ok(fusedGroupNormAvailable(), `registered on ${backend}`);
      const r = await compareWithComposed(c);
      for (const [what, error] of [["value", r.value], ["tangent", r.tangent], ...r.grads.map((e, i) => [`gradient ${i}`, e] as const)] as const) {
        assert.ok(error < TOLERANCE, `${what}: relative error ${error}`);
      }
      assert.equal(r.kernels, r.expectedKernels, "one fused forward kernel (and SiLU's two where it runs outside)");
    });
  }
  test(`${backend}: the fused group norm leaks no tensors and no backend memory`, async () => {
    assert.ok(await tf.setBackend(backend));
    const c = GROUP_NORM_CASES[GROUP_NORM_CASES.length - 1];
    await compareWithComposed(c);
    const before = [tf.memory().numTensors, tf.engine().backend.numDataIds()];
    for (let i = 0; i < 3; i++) await compareWithComposed(c, i);
    assert.deepEqual([tf.memory().numTensors, tf.engine().backend.numDataIds()], before);
  });
}

test("back on the CPU backend for the tests below", async () => {
  assert.ok(await tf.setBackend("cpu"));
});

test("a wrong geometry is refused with a clear message", () => {
  tf.tidy(() => {
    const x = tf.zeros([2, 4, 4, 6]);
    assert.throws(() => fusedGroupNorm(x, tf.ones([6]), tf.zeros([6]), { groups: 4, eps: 1e-5, activation: "none" }), /6 channels cannot form 4 groups/);
    assert.throws(() => fusedGroupNorm(x, tf.ones([3, 6]), tf.zeros([3, 6]), { groups: 3, eps: 1e-5, activation: "none" }), /scale and shift must be \[2,6\]/);
    assert.throws(() => fusedGroupNorm(tf.zeros([2, 3, 6]), tf.ones([6]), tf.zeros([6]), { groups: 3, eps: 1e-5, activation: "none" }), /NHWC images or \[batch, channels\] vectors/);
  });
});

test("the tiny UNet gives the same value and tangent with and without fused group norms", async () => {
  const net = new SmallUNet({ ...UNET_PRESETS.tiny, resolution: 8, seed: 3 });
  const u = tf.randomNormal([2, 8, 8, 3], 0, 1, "float32", 1);
  const t = tf.tensor1d([0.3, 1.2]);
  const uDot = tf.randomNormal([2, 8, 8, 3], 0, 1, "float32", 2);
  const tDot = tf.tensor1d([1, -0.5]);
  const outputs = () => {
    const { value: dualValue, tangent } = jvp(net, u, t, uDot, tDot);
    return { value: forward(net, u, t), dualValue, tangent };
  };
  const a = outputs();
  const b = withoutFusedGroupNorm(outputs);
  const rel = relativeError;
  // 10 layers of round-off differences on top of each other: 1e-4 of the output's scale
  assert.ok((await rel(a.value, b.value)) < 1e-4, `value ${await rel(a.value, b.value)}`);
  assert.ok((await rel(a.dualValue, b.value)) < 1e-4);
  assert.ok((await rel(a.tangent, b.tangent)) < 1e-4, `tangent ${await rel(a.tangent, b.tangent)}`);
  tf.dispose([u, t, uDot, tDot, a.value, a.dualValue, a.tangent, b.value, b.dualValue, b.tangent]);
  net.dispose();
});

test("the toy MLP gives the same value and tangent with and without fused group norms, in far fewer kernels", async () => {
  const net = new TimeConditionedMlp({ hidden: 32, blocks: 1, groups: 4, timeEmbedding: { kind: "positional", dim: 16 }, seed: 2 });
  const u = tf.randomNormal([64, 2], 0, 1, "float32", 1);
  const t = tf.randomUniform([64], 0.05, 1.5, "float32", 2);
  const uDot = tf.randomNormal([64, 2], 0, 1, "float32", 3);
  const tDot = tf.randomUniform([64], -1, 1, "float32", 4);
  const outputs = () => {
    const { value: dualValue, tangent } = jvp(net, u, t, uDot, tDot);
    return { value: forward(net, u, t), dualValue, tangent };
  };
  const a = outputs();
  const b = withoutFusedGroupNorm(outputs);
  // Two norms of float32 round-off, then three dense layers: 1e-5 of the output's scale as for one norm.
  for (const [what, fused, composed] of [["value", a.value, b.value], ["dual value", a.dualValue, b.value], ["tangent", a.tangent, b.tangent]] as const) {
    const error = await relativeError(fused, composed);
    assert.ok(error < TOLERANCE, `${what}: relative error ${error}`);
  }
  // The kernels of one JVP (the sCT step's costliest part): the two norms go from ~50 kernels to 2.
  const kernels = async (work: () => unknown) => (await tf.profile(() => void tf.dispose(work() as tf.TensorContainer))).kernels.length;
  const jvpKernels = () => jvp(net, u, t, uDot, tDot);
  const [fusedCount, composedCount] = [await kernels(jvpKernels), await kernels(() => withoutFusedGroupNorm(jvpKernels))];
  assert.ok(composedCount - fusedCount >= 40, `JVP kernels ${composedCount} composed, ${fusedCount} fused`);
  tf.dispose([u, t, uDot, tDot, a.value, a.dualValue, a.tangent, b.value, b.dualValue, b.tangent]);
  net.dispose();
});
