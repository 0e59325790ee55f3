import { test } from "node:test";
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { normalizeTangent, scmJvpTangents, scmLoss, scmTangent, warmupFactor } from "../src/components/objectives/scm.ts";
import { perSample } from "../src/components/trigflow/trigflow-batch.ts";
import { TimeConditionedMlp } from "../src/components/nn/mlp.ts";
import { forward, jvp } from "../src/components/nn/network.ts";
import { plainAlgebra } from "../src/components/nn/algebra.ts";
import { SIGMA_D } from "../src/components/trigflow/trigflow.ts";
import { assertClose } from "./helpers.ts";

await tf.setBackend("cpu");
const B = 8;
const net = new TimeConditionedMlp({ outputGain: 1, seed: 2 });
const x0 = tf.randomNormal([B, 2], 0, 0.5, "float32", 1);
const z = tf.randomNormal([B, 2], 0, SIGMA_D, "float32", 2);

/** Everything Alg. 1 computes for sCT at times t, with warm-up r. */
function sctTangent(t: tf.Tensor, warmup = 1) {
  const c = perSample(tf.cos(t), 2);
  const s = perSample(tf.sin(t), 2);
  const xt = tf.add(tf.mul(c, x0), tf.mul(s, z));
  const dxdt = tf.sub(tf.mul(c, z), tf.mul(s, x0));
  const { uDot, tDot } = scmJvpTangents(dxdt, t);
  const { value: Fminus, tangent } = jvp(net, tf.div(xt, SIGMA_D), t, uDot, tDot);
  return { xt, dxdt, Fminus, g: scmTangent({ xt, t, dxdt, Fminus, jvp: tangent, warmup }) };
}

/** The consistency function f(x_s, s) = cos s·x_s − σd sin s·F(x_s/σd, s) along the sCT path x_s. */
function consistencyAlongPath(s: tf.Tensor): tf.Tensor {
  const c = perSample(tf.cos(s), 2);
  const sn = perSample(tf.sin(s), 2);
  const xs = tf.add(tf.mul(c, x0), tf.mul(sn, z));
  return tf.sub(tf.mul(c, xs), tf.mul(tf.mul(sn, SIGMA_D), net.apply(plainAlgebra, tf.div(xs, SIGMA_D), s)));
}

test("at r = 1 the sCT tangent g equals cos t·df/dt, computed independently by differencing f along the path", () => {
  const t = tf.tensor1d([0.1, 0.3, 0.5, 0.7, 0.9, 1.1, 1.3, 1.5]);
  const { g } = sctTangent(t);
  // Richardson-extrapolated central difference in t of f(x_t, t) along x_t = cos t·x0 + sin t·z (h = 1e-3: the
  // MLP needs a fine step, see nn-networks.test.ts); error ~1e-4 relative.
  const h = 1e-3;
  const diff = (step: number) => tf.div(tf.sub(consistencyAlongPath(tf.add(t, step)), consistencyAlongPath(tf.sub(t, step))), 2 * step);
  const dfdt = tf.div(tf.sub(tf.mul(diff(h / 2), 4), diff(h)), 3);
  const expected = tf.mul(perSample(tf.cos(t), 2), dfdt);
  const scale = Math.max(1, tf.max(tf.abs(expected)).dataSync()[0]);
  assertClose(g.dataSync(), expected.dataSync(), 2e-3 * scale, "g vs cos t·df/dt");
});

test("as t → 0 the tangent becomes the flow-matching direction −(σd F⁻ − dx/dt)", () => {
  const t = tf.fill([B], 1e-4);
  const { g, Fminus, dxdt } = sctTangent(t);
  const expected = tf.neg(tf.sub(tf.mul(Fminus, SIGMA_D), dxdt));
  // The second term is cos t sin t·(x_t + σd dF/dt) ≈ 1e-4·O(10); cos²t differs from 1 by 1e-8.
  assertClose(g.dataSync(), expected.dataSync(), 1e-2 * Math.max(1, tf.max(tf.abs(expected)).dataSync()[0]));
});

test("warm-up scales the whole second term: at r = 0 only −cos²t·(σd F⁻ − dx/dt) remains", () => {
  const t = tf.tensor1d([0.2, 0.4, 0.6, 0.8, 1.0, 1.2, 1.4, 1.5]);
  const { g, Fminus, dxdt } = sctTangent(t, 0);
  const expected = tf.mul(tf.neg(perSample(tf.square(tf.cos(t)), 2)), tf.sub(tf.mul(Fminus, SIGMA_D), dxdt));
  assertClose(g.dataSync(), expected.dataSync(), 1e-6);
  assert.equal(warmupFactor(0, 100), 0);
  assert.equal(warmupFactor(50, 100), 0.5);
  assert.equal(warmupFactor(500, 100), 1);
  assert.equal(warmupFactor(3, 0), 1);
});

test("tangent normalisation: per-sample L2 g/(‖g‖ + c), clipping, or none", () => {
  const g = tf.tensor2d([[3, 4], [0, 0.05], [-30, 40]]);
  const l2 = normalizeTangent(g, { kind: "l2", c: 0.1 }).arraySync() as number[][];
  assertClose(l2.flat(), [3 / 5.1, 4 / 5.1, 0, 0.05 / 0.15, -30 / 50.1, 40 / 50.1], 1e-6);
  assertClose(normalizeTangent(g, { kind: "clip", limit: 1 }).dataSync(), [1, 1, 0, 0.05, -1, 1], 1e-7); // 0.05 in float32
  assertClose(normalizeTangent(g, { kind: "off" }).dataSync(), g.dataSync(), 0);
});

test("at F = F⁻ the loss value is e^w‖g‖²/D − w per sample, and its gradient is −(2e^w/D)·gᵀ∇F (§4.2)", () => {
  const t = tf.tensor1d([0.2, 0.4, 0.6, 0.8, 1.0, 1.2, 1.4, 1.5]);
  const { xt, Fminus, g: raw } = sctTangent(t);
  const g = normalizeTangent(raw, { kind: "l2", c: 0.1 });
  const w = tf.tensor1d([0.5, -1, 0, 2, 0.1, -0.3, 1, 0]);
  const gs = g.arraySync() as number[][];
  const ws = w.arraySync() as number[];
  const expected = gs.reduce((sum, row, i) => sum + Math.exp(ws[i]) * (row[0] ** 2 + row[1] ** 2) / 2 - ws[i], 0) / B;
  assertClose(scmLoss(Fminus, Fminus, g, w).dataSync()[0], expected, 1e-6);

  const u = tf.div(xt, SIGMA_D);
  const variables = net.params.trainableVariables().filter((v) => v !== net.params.get("logvar.weight") && v !== net.params.get("logvar.bias"));
  const lossGrads = tf.variableGrads(() => scmLoss(forward(net, u, t), Fminus, g, w), variables).grads;
  const coefficient = perSample(tf.div(tf.mul(tf.exp(w), -2), 2 * B), 2); // −2e^w/D, averaged over the batch
  const linearGrads = tf.variableGrads(() => tf.sum(tf.mul(tf.mul(coefficient, forward(net, u, t)), g)) as tf.Scalar, variables).grads;
  for (const name of Object.keys(lossGrads)) {
    const scale = Math.max(1e-3, tf.max(tf.abs(linearGrads[name])).dataSync()[0]);
    assertClose(lossGrads[name].dataSync(), linearGrads[name].dataSync(), 1e-4 * scale, `gradient ${name}`);
  }
});
