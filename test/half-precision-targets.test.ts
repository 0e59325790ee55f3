/**
 * sCM and discrete-time targets in simulated fp16 (`precision: "half"`): float32 stays bit for bit what it was,
 * half rounds every intermediate up to g, and the finite difference of App. E loses its digits as N grows
 * while the continuous tangent (the rearranged JVP of §5.1) keeps them.
 *
 * Tolerances come from fp16's unit roundoff u = 2^-11 ≈ 4.9e-4 (half of the spacing 2^-10 just above 1).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { normalizeTangent, scmLoss, scmTargets, tangentNorms, type ScmTargets, type TangentNormalization } from "../src/components/objectives/scm.ts";
import { discreteTargets } from "../src/components/objectives/discrete.ts";
import { scmTrainingStep, type ScmStepConfig } from "../src/components/training/scm-step.ts";
import { HALF_ARITHMETIC, roundToHalf } from "../src/components/nn/half-precision.ts";
import { plainAlgebra } from "../src/components/nn/algebra.ts";
import { forward, jvp, type FlowNetwork } from "../src/components/nn/network.ts";
import { TimeConditionedMlp } from "../src/components/nn/mlp.ts";
import { perSample } from "../src/components/trigflow/trigflow-batch.ts";
import { SIGMA_D } from "../src/components/trigflow/trigflow.ts";
import { createMixture } from "../src/components/trigflow/gaussian-mixture.ts";
import { tangentGapByGridSize } from "../src/components/toy/experiments/discrete.ts";
import { ToyRun } from "../src/components/toy/toy-run.ts";
import { DEFAULT_TOY_RUN } from "../src/components/toy/toy-run-config.ts";

await tf.setBackend("cpu");

const U = 2 ** -11;
const B = 16;
const mlp = (seed: number, dropout = 0) => new TimeConditionedMlp({ hidden: 16, blocks: 1, groups: 4, timeEmbedding: { kind: "positional", dim: 8 }, outputGain: 1, dropout, seed });
const x0 = tf.randomNormal([B, 2], 0, 0.5, "float32", 11);
const z = tf.randomNormal([B, 2], 0, SIGMA_D, "float32", 12);
// Times spread over (0, π/2), with t' one step of ~0.01 below t (a coarse grid: resolved in fp16 too).
const t = tf.linspace(0.05, 1.55, B);
const tPrime = tf.sub(t, 0.01);
const batch = { x0, z, t, tPrime };
const l2: TangentNormalization = { kind: "l2", c: 0.1 };

const bits = (x: tf.Tensor) => Array.from(new Uint32Array(Float32Array.from(x.dataSync()).buffer));

/**
 * The targets as the code computed them before precision existed, op for op in plain tf (sCT/sCD: Alg. 1;
 * discrete: Eq. 26 and Eq. 37): the reference for "float32 changes nothing".
 */
function targetsBefore(net: FlowNetwork, teacher: FlowNetwork, objective: "sct" | "scd" | "discrete", warmup: number, seed: number): ScmTargets {
  return tf.tidy(() => {
    const c = perSample(tf.cos(t), 2);
    const s = perSample(tf.sin(t), 2);
    const xt = tf.add(tf.mul(c, x0), tf.mul(s, z));
    const u = tf.div(xt, SIGMA_D);
    let Fminus: tf.Tensor;
    let g: tf.Tensor;
    if (objective === "discrete") {
      const Fteacher = teacher.apply(plainAlgebra, u, t);
      const gap = perSample(tf.sub(t, tPrime), 2);
      const xtp = tf.sub(tf.mul(tf.cos(gap), xt), tf.mul(tf.mul(tf.sin(gap), SIGMA_D), Fteacher));
      Fminus = net.apply(plainAlgebra, u, t, { dropoutSeed: seed });
      const Ftp = net.apply(plainAlgebra, tf.div(xtp, SIGMA_D), tPrime, { dropoutSeed: seed });
      const cosPrime = perSample(tf.cos(tPrime), 2);
      const sinPrime = perSample(tf.sin(tPrime), 2);
      const mismatch = tf.mul(tf.neg(cosPrime), tf.mul(tf.sub(Fminus, Fteacher), SIGMA_D));
      const difference = tf.div(tf.sub(tf.mul(tf.cos(gap), Fminus), Ftp), tf.sin(gap));
      const second = tf.mul(-warmup, tf.mul(sinPrime, tf.add(xt, tf.mul(difference, SIGMA_D))));
      g = tf.mul(perSample(tf.cos(t), 2), tf.add(mismatch, second));
    } else {
      const dxdt = objective === "sct" ? tf.sub(tf.mul(c, z), tf.mul(s, x0)) : tf.mul(teacher.apply(plainAlgebra, u, t), SIGMA_D);
      const cs = tf.mul(tf.cos(t), tf.sin(t));
      const pass = jvp(net, u, t, tf.div(tf.mul(perSample(cs, 2), dxdt), SIGMA_D), cs, { dropoutSeed: seed });
      Fminus = pass.value;
      const flowMismatch = tf.mul(tf.neg(tf.square(c)), tf.sub(tf.mul(Fminus, SIGMA_D), dxdt));
      g = tf.add(flowMismatch, tf.mul(-warmup, tf.add(tf.mul(tf.mul(c, s), xt), tf.mul(pass.tangent, SIGMA_D))));
    }
    return { u, Fminus, g: normalizeTangent(g, l2), tangentNorms: tangentNorms(g) };
  });
}

function targets(net: FlowNetwork, teacher: FlowNetwork, objective: "sct" | "scd" | "discrete", settings: { normalization: TangentNormalization; precision?: "float32" | "half" }, seed = 7): ScmTargets {
  // iteration 3 of H = 10: warm-up r = 0.3, a number that is not an fp16 value.
  const common = { teacher, warmupIterations: 10, ...settings };
  return objective === "discrete" ? discreteTargets(net, batch, 3, seed, common) : scmTargets(net, batch, 3, seed, { ...common, objective });
}

test("precision float32 (and no precision) gives the targets of before, bit for bit", () => {
  const net = mlp(1, 0.2); // with dropout, so the seed's masks are part of what must not change
  const teacher = mlp(2);
  for (const objective of ["sct", "scd", "discrete"] as const) {
    const before = targetsBefore(net, teacher, objective, 0.3, 7);
    for (const precision of [undefined, "float32"] as const) {
      const now = targets(net, teacher, objective, { normalization: l2, precision });
      for (const key of ["u", "Fminus", "g", "tangentNorms"] as const) {
        assert.deepEqual(bits(now[key]), bits(before[key]), `${objective}, precision ${precision}: ${key} changed`);
      }
      tf.dispose(Object.values(now));
    }
    tf.dispose(Object.values(before));
  }
  net.dispose();
  teacher.dispose();
});

test("a float32 training step is the same with precision float32 as without", () => {
  const teacher = mlp(2);
  const weights: number[][][] = [];
  for (const precision of [undefined, "float32"] as const) {
    const net = mlp(1, 0.2);
    const config: ScmStepConfig = { objective: "discrete", teacher, normalization: l2, warmupIterations: 10, adaptiveWeighting: true, precision };
    tf.dispose(Object.values(scmTrainingStep(net, tf.train.adam(1e-2), batch, 3, 7, config)));
    weights.push(net.params.names().map((n) => bits(net.params.get(n))));
    net.dispose();
  }
  assert.deepEqual(weights[0], weights[1]);
  teacher.dispose();
});

test("in half precision u, F⁻ and g before normalisation are fp16 values; the normalisation is float32's", () => {
  const net = mlp(1, 0.2);
  const teacher = mlp(2);
  const onHalfGrid = (x: tf.Tensor, what: string) => assert.deepEqual(bits(x), bits(roundToHalf(x)), `${what} is not on the fp16 grid`);
  for (const objective of ["sct", "scd", "discrete"] as const) {
    const raw = targets(net, teacher, objective, { normalization: { kind: "off" }, precision: "half" });
    const normalised = targets(net, teacher, objective, { normalization: l2, precision: "half" });
    onHalfGrid(raw.u, `${objective} u`);
    onHalfGrid(raw.Fminus, `${objective} F⁻`);
    onHalfGrid(raw.g, `${objective} g`);
    // F⁻ is the fp16 network's own output (every layer rounded, not only the result), at the fp16 inputs; for
    // sCT and sCD it is the value half of the fp16 dual pass, which must equal the plain fp16 pass.
    const halfPass = HALF_ARITHMETIC.plain;
    assert.deepEqual(bits(raw.Fminus), bits(net.apply(halfPass, raw.u, roundToHalf(t), { dropoutSeed: 7 })), `${objective}: F⁻ is not the fp16 pass`);
    // g/(‖g‖ + c) and ‖g‖ of that fp16 g, in float32 (not rounded again).
    assert.deepEqual(bits(normalised.g), bits(normalizeTangent(raw.g, l2)), `${objective}: normalised g`);
    assert.deepEqual(bits(normalised.tangentNorms), bits(tangentNorms(raw.g)), `${objective}: ‖g‖`);
    // And half is not float32: F⁻ moved, by a few u relative to its size (‖ΔF⁻‖/‖F⁻‖ over the batch; measured
    // 7e-4 to 9e-4 ≈ 2u: the network is ~15 roundings deep, so ≲ 16u).
    const full = targets(net, teacher, objective, { normalization: { kind: "off" } });
    const change = tf.div(tf.norm(tf.sub(raw.Fminus, full.Fminus)), tf.norm(full.Fminus)).dataSync()[0];
    assert.ok(change > 0 && change < 16 * U, `${objective}: F⁻ half vs float32 differs by ${change} relative`);
    tf.dispose([...Object.values(raw), ...Object.values(normalised), ...Object.values(full)]);
  }
  net.dispose();
  teacher.dispose();
});

test("fp16 ruins the discrete tangent at large N (round-off ∝ 1/sin(t − t')) but not the continuous JVP tangent", async () => {
  const mixture = createMixture([[0.5, 0.2], [-0.4, -0.3]], 0.1);
  const student = mlp(2);
  const teacher = mlp(3);
  const sizes = [64, 256, 1024, 4096];
  const n = 256;
  const before = tf.memory().numTensors;
  // Both against the exact float32 sCD tangent at the same (x_t, t) (r = 1, not normalised).
  const float32 = (await tangentGapByGridSize(student, teacher, mixture, sizes, n, 1)).map((r) => r.relativeError);
  const half = (await tangentGapByGridSize(student, teacher, mixture, sizes, n, 1, undefined, "half")).map((r) => r.relativeError);
  assert.equal(tf.memory().numTensors, before, "no tensors left behind");

  // The continuous tangent in fp16: the whole of scmTargets (teacher pass, rearranged dual pass, g) rounded.
  const continuousHalf = tf.tidy(() => {
    const x0 = tf.randomNormal([n, 2], 0, 0.5, "float32", 21);
    const z = tf.randomNormal([n, 2], 0, SIGMA_D, "float32", 22);
    const t = tf.linspace(0.02, 1.56, n);
    const raw = { objective: "scd", teacher, normalization: { kind: "off" }, warmupIterations: 0 } as const;
    const exact = scmTargets(student, { x0, z, t }, 0, 0, raw).g;
    const rounded = scmTargets(student, { x0, z, t }, 0, 0, { ...raw, precision: "half" }).g;
    return tf.mean(tf.div(tf.norm(tf.sub(rounded, exact), "euclidean", 1), tf.norm(exact, "euclidean", 1)));
  });
  const continuousError = (await continuousHalf.data())[0];
  continuousHalf.dispose();
  console.log(`relative error to the exact tangent by N ${sizes.join(", ")}: float32 ${float32.map((e) => e.toPrecision(3)).join(", ")}; fp16 ${half.map((e) => e.toPrecision(3)).join(", ")}; continuous fp16 ${continuousError.toPrecision(3)}`);

  // Float32: truncation only, first order in 1/N (measured 0.081 → 0.0015 for 64× finer).
  assert.ok(float32[3] < float32[0] / 20, `float32 gap ${float32[0]} at N = 64, ${float32[3]} at 4096`);
  // fp16: each F⁻ carries ~u relative error, and the finite difference divides it by sin(t − t') ≈ 1e-3 at
  // N = 4096 (t near 1): round-off ~u/1e-3 ≈ 0.5, plus the pairs whose t and t' round to the same fp16 value
  // (tangent 0, error 1). Measured 0.083, 0.050, 0.13, 0.32: past N ≈ 256 it grows with N, and at 4096 it is
  // several times the coarse grid's truncation error and ~200× float32's.
  assert.ok(half[1] < half[2] && half[2] < half[3], `fp16 gap should grow with N past 256: ${half}`);
  assert.ok(half[3] > 2.5 * half[0], `fp16 gap ${half[3]} at N = 4096 vs ${half[0]} at N = 64`);
  assert.ok(half[3] > 50 * float32[3], `fp16 gap ${half[3]} vs float32 ${float32[3]} at N = 4096`);
  // The continuous fp16 tangent has no difference to amplify: the error of the ~15 fp16 roundings along the
  // dual pass and g, each ≤ u relative, is ≲ 16u ≈ 7.8e-3 (measured 1.8e-3 ≈ 4u) — two orders below the
  // discrete tangent's at N = 4096.
  assert.ok(continuousError < 16 * U, `continuous fp16 tangent error ${continuousError}`);
  assert.ok(half[3] > 30 * continuousError, `fp16 discrete ${half[3]} vs continuous ${continuousError}`);
  student.dispose();
  teacher.dispose();
});

test("mixed precision: the loss sees the fp16 F_θ, so F_θ − F⁻ = 0 as in float32 and the loss is ‖g‖²/D", () => {
  const net = mlp(1, 0.2);
  const teacher = mlp(2);
  for (const objective of ["scd", "discrete"] as const) {
    const config: ScmStepConfig = { objective, teacher, normalization: l2, warmupIterations: 10, adaptiveWeighting: false, precision: "half" };
    const { u, Fminus, g } = targets(net, teacher, objective, { normalization: l2, precision: "half" });
    const w = tf.zeros([B]);
    const expected = scmLoss(Fminus, Fminus, g, w).dataSync()[0];
    // What a float32 F_θ against the fp16 F⁻ would give instead: larger by ‖F_θ − F⁻‖²/D (~u²) plus a cross term.
    const mismatched = scmLoss(forward(net, u, roundToHalf(t), { dropoutSeed: 7 }), Fminus, g, w).dataSync()[0];
    const { loss } = scmTrainingStep(net, tf.train.sgd(0), batch, 3, 7, config);
    const error = Math.abs(loss.dataSync()[0] - expected);
    assert.ok(error < Math.abs(mismatched - expected) / 20, `${objective}: loss ${loss.dataSync()[0]}, fp16 F ${expected}, float32 F ${mismatched}`);
    tf.dispose([u, Fminus, g, w, loss]);
  }
  net.dispose();
  teacher.dispose();
});

test("a discrete-time run with fp16 targets trains at N = 4096: finite losses, no leaked tensors", async () => {
  const mixture = createMixture([[0.5, 0.2], [-0.4, -0.3]], 0.1);
  const teacher = mlp(3);
  const config = {
    ...DEFAULT_TOY_RUN,
    objective: "discrete",
    network: { hidden: 16, blocks: 1, groups: 4, timeEmbedding: { kind: "positional", dim: 8 } },
    batch: 64,
    // at N = 4096, about one pair in ten has t = t' in fp16 (near t_max): its tangent is zero, not NaN
    discreteSteps: 4096,
    scm: { ...DEFAULT_TOY_RUN.scm, precision: "half" },
    seed: 5,
  } as const;
  const run = new ToyRun(mixture, config, teacher);
  const first = await run.step(); // the optimiser's moments and the guard's snapshot are made here
  const before = tf.memory().numTensors;
  const losses = [first.loss];
  for (let i = 0; i < 5; i++) {
    const report = await run.step();
    losses.push(report.loss);
    assert.ok(report.meanTangentNorm !== null && Number.isFinite(report.meanTangentNorm), `tangent norm ${report.meanTangentNorm}`);
  }
  assert.equal(tf.memory().numTensors, before, "tensors leaked across steps");
  assert.ok(losses.every(Number.isFinite), `losses ${losses}`);
  run.dispose();
  teacher.dispose();
});
