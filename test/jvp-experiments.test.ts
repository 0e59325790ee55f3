import { test } from "node:test";
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { TimeConditionedMlp } from "../src/components/nn/mlp.ts";
import { pathDerivatives } from "../src/components/toy/experiments/jvp.ts";
import { finiteDifferenceErrors, halfPrecisionJvpTerm, timeDerivativeProfile } from "../src/components/jobs/jvp-jobs.ts";
import { mixturePreset } from "../src/components/toy/mixture-presets.ts";
import { exactTrajectories } from "../src/components/toy/experiments/pf-ode.ts";
import { uniformTimes } from "../src/components/trigflow/ode-solvers.ts";
import { SIGMA_D, T_MAX } from "../src/components/trigflow/trigflow.ts";
import { assertClose } from "./helpers.ts";

await tf.setBackend("cpu");
const u = tf.randomNormal([32, 2], 0, 1, "float32", 1);

test("sin t·∂F/∂t is largest for log-σ conditioning near π/2 and for ×1000 everywhere (§4.1)", async () => {
  const times = [0.2, 0.8, 1.5, 1.5707];
  const profile = async (cNoise: "identity" | "logSigma" | "scaled1000") => {
    const net = new TimeConditionedMlp({ cNoise, outputGain: 1, seed: 3 });
    const p = (await timeDerivativeProfile(net, u, times)).map((r) => r.value);
    net.dispose();
    return p;
  };
  const identity = await profile("identity");
  const logSigma = await profile("logSigma");
  const scaled = await profile("scaled1000");
  assert.ok(logSigma[3] > 100 * identity[3], `near π/2: log σ ${logSigma[3]} vs identity ${identity[3]}`);
  assert.ok(scaled[1] > 10 * identity[1], `×1000 at t = 0.8: ${scaled[1]} vs ${identity[1]}`);
  assert.ok(identity.every((v) => Number.isFinite(v) && v < 100));
});

test("in simulated fp16 the naive JVP overflows where the rearranged one stays finite (§5.1)", async () => {
  const net = new TimeConditionedMlp({ cNoise: "logSigma", timeEmbedding: { kind: "fourier", dim: 64, fourierScale: 16 }, outputGain: 1, seed: 4 });
  const x0 = tf.randomNormal([16, 2], 0, 0.5, "float32", 5);
  const z = tf.randomNormal([16, 2], 0, SIGMA_D, "float32", 6);
  const times = [0.5, 1.5705];
  const naive = await halfPrecisionJvpTerm(net, x0, z, times, "naive");
  const rearranged = await halfPrecisionJvpTerm(net, x0, z, times, "rearranged");
  assert.equal(naive[1].maxJvp, Infinity, "naive dF/dt overflows near π/2");
  assert.ok(naive[1].finiteFraction < 1, "and poisons the term");
  assert.equal(rearranged[1].finiteFraction, 1, "the rearranged form stays finite");
  // Where nothing overflows, both fp16 forms approximate the float32 term (half precision: ~1e-3 relative,
  // a few % after many ops). Not near π/2: there fp16 cannot even represent t finely (spacing 2^-10 ≈ 0.001
  // at t ≈ 1.57), so log(tan t) and the whole term differ from float32's, by design of the format.
  for (const row of [naive[0], rearranged[0]]) {
    assert.ok(Math.abs(row.maxTerm - row.maxTermFloat32) <= 0.05 * row.maxTermFloat32, `${row.form} t=${row.t}: ${row.maxTerm} vs ${row.maxTermFloat32}`);
  }
  // In float32 the two forms are the same number.
  assertClose(naive[0].maxTermFloat32, rearranged[0].maxTermFloat32, 1e-5 * rearranged[0].maxTermFloat32);
  net.dispose();
});

test("finite-difference JVP error is U-shaped in ε (truncation vs round-off)", async () => {
  const net = new TimeConditionedMlp({ outputGain: 1, seed: 5 });
  const t = tf.fill([32], 0.9);
  const rows = await finiteDifferenceErrors(net, u, t, tf.randomNormal([32, 2], 0, 1, "float32", 7), tf.onesLike(t), [1e-6, 1e-3, 0.3]);
  assert.ok(rows[1].error < rows[0].error / 10, `round-off dominates at ε = 1e-6: ${rows[0].error} vs ${rows[1].error}`);
  assert.ok(rows[1].error < rows[2].error / 10, `truncation dominates at ε = 0.3: ${rows[2].error} vs ${rows[1].error}`);
  net.dispose();
});

test("dF/dt along an exact path = spatial part + temporal part, and matches differencing F along the path", () => {
  const mix = mixturePreset("ring", { modes: 4, spread: 0.1 });
  const times = uniformTimes(T_MAX, 0.05, 150);
  const states = exactTrajectories(mix, Float64Array.from([0.2, -0.3]), times);
  const derivatives = pathDerivatives(mix, states, times);
  for (let i = 1; i < times.length - 1; i++) {
    // Independent check: difference the exact F along the solved path (second order in the step Δt ≈ 0.01).
    const dt = times[i + 1] - times[i - 1];
    const along = derivatives[i + 1].F.map((f, j) => (f - derivatives[i - 1].F[j]) / dt);
    const scale = Math.max(1, ...derivatives[i].total.map(Math.abs));
    assertClose(derivatives[i].total, along, 0.05 * scale, `t=${times[i].toFixed(3)}`);
    assertClose(derivatives[i].total, derivatives[i].spatial.map((s, j) => s + derivatives[i].temporal[j]), 1e-12);
  }
});
