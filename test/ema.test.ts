import { test } from "node:test";
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { copyParameters, emaDecayFromHalfLife, ParameterEma } from "../src/components/training/ema.ts";
import { FlatParameters } from "../src/components/training/flat-parameters.ts";
import { ParameterSet, normal, zeros } from "../src/components/nn/parameters.ts";
import { createRng, normalArray } from "../src/components/math/rng.ts";
import { assertClose } from "./helpers.ts";

await tf.setBackend("cpu");

test("EMA decay from a half-life in images: 0.5 Mimg at batch 512 is β ≈ 0.99929 (App. G.2)", () => {
  assertClose(emaDecayFromHalfLife(500_000, 512), 0.99929, 1e-5);
  // After halfLife/batch steps the old weights keep exactly half their influence.
  assertClose(emaDecayFromHalfLife(1000, 10) ** 100, 0.5, 1e-12);
});

/** Two parameter sets with the same names and shapes and different random values. */
function twoSets(seed: number): [ParameterSet, ParameterSet] {
  const rng = createRng(seed);
  const sets: [ParameterSet, ParameterSet] = [new ParameterSet(), new ParameterSet()];
  for (const set of sets) {
    set.create("a", [2, 3], (shape) => tf.tensor(Float32Array.from(normalArray(rng, 6, 1)), shape));
    set.create("b", [5], (shape) => tf.tensor(Float32Array.from(normalArray(rng, 5, 1)), shape));
  }
  return sets;
}

const read = async (set: ParameterSet) => Object.fromEntries(await Promise.all(set.names().map(async (n) => [n, Array.from(await set.get(n).data())] as const)));

test("copyParameters copies every parameter; the EMA starts equal to its source", async () => {
  const source = new ParameterSet(1);
  source.create("w", [3], normal(1));
  const target = new ParameterSet(2);
  target.create("w", [3], zeros);
  copyParameters(target, source);
  assert.deepEqual(await read(target), await read(source));
  const [emaTarget, emaSource] = twoSets(4);
  const ema = new ParameterEma(emaTarget, emaSource, 0.9);
  assert.deepEqual(await read(emaTarget), await read(emaSource));
  ema.dispose();
  [source, target, emaTarget, emaSource].forEach((s) => s.dispose());
});

test("the EMA over all parameters at once is, bit for bit, β·target + (1 − β)·source per parameter, step after step", async () => {
  const [target, source] = twoSets(5);
  const decay = 0.9993;
  const ema = new ParameterEma(target, source, decay);
  // The per-parameter reference, starting where the EMA starts (equal to the source).
  const expected = new Map<string, tf.Tensor>(source.names().map((n) => [n, tf.clone(source.get(n))]));
  const rng = createRng(6);
  for (let step = 0; step < 4; step++) {
    // The source moves as a trained network does: a new value by assignment.
    for (const n of source.names()) tf.tidy(() => source.get(n).assign(tf.add(source.get(n), tf.tensor(Float32Array.from(normalArray(rng, source.get(n).size, 0.1)), source.get(n).shape))));
    ema.update();
    for (const n of source.names()) {
      const next = tf.tidy(() => tf.add(tf.mul(expected.get(n)!, decay), tf.mul(source.get(n), 1 - decay)));
      expected.get(n)!.dispose();
      expected.set(n, next);
    }
  }
  ema.sync();
  for (const n of source.names()) assert.deepEqual(Array.from(await target.get(n).data()), Array.from(await expected.get(n)!.data()), n);
  tf.dispose([...expected.values()]);
  ema.dispose();
  [target, source].forEach((s) => s.dispose());
});

test("the EMA's weights are written into its network only at sync; a snapshot restores the average; no leaks", async () => {
  const [target, source] = twoSets(7);
  const ema = new ParameterEma(target, source, 0.5);
  const start = await read(target);
  tf.tidy(() => source.get("a").assign(tf.zerosLike(source.get("a"))));
  const saved = ema.snapshot();
  ema.update();
  assert.deepEqual(await read(target), start, "not written before sync");
  ema.sync();
  assertClose((await read(target)).a, start.a.map((v) => 0.5 * v), 1e-7);
  ema.restore(saved);
  ema.sync();
  assert.deepEqual(await read(target), start, "the snapshot's average is back");
  saved.dispose();
  const before = tf.memory().numTensors;
  for (let i = 0; i < 10; i++) {
    tf.tidy(() => source.get("b").assign(tf.add(source.get("b"), 1)));
    ema.update();
    if (i % 3 === 0) ema.sync();
  }
  assert.equal(tf.memory().numTensors, before, "no leaks");
  ema.dispose();
  assert.equal(tf.memory().numTensors, before - 2, "the average and the source's vector go with the EMA");
  [target, source].forEach((s) => s.dispose());
});

test("a load into the EMA's network wins over an average not yet written, and the next step averages from it", async () => {
  const [target, source] = twoSets(8);
  const ema = new ParameterEma(target, source, 0.5);
  ema.update();
  // What ImageRun.restore does: load saved EMA weights while the trainer holds an unwritten average.
  const loaded = { a: { shape: [2, 3], data: new Float32Array(6).fill(2) }, b: { shape: [5], data: new Float32Array(5).fill(-4) } };
  target.load(loaded);
  ema.sync();
  assert.deepEqual(await read(target), { a: Array(6).fill(2), b: Array(5).fill(-4) });
  const sourceValues = await read(source);
  ema.update();
  ema.sync();
  const after = await read(target);
  assertClose(after.a, sourceValues.a.map((v) => 0.5 * 2 + 0.5 * v), 1e-6);
  assertClose(after.b, sourceValues.b.map((v) => 0.5 * -4 + 0.5 * v), 1e-6);
  ema.dispose();
  [target, source].forEach((s) => s.dispose());
});

test("FlatParameters keeps its vector until a variable is assigned from outside, then reads them again", async () => {
  const variables: tf.Variable[] = [tf.variable(tf.tensor2d([[1, 2], [3, 4]])), tf.variable(tf.tensor1d([5, 6, 7]))];
  const flat = new FlatParameters(variables);
  assert.equal(flat.size, 7);
  const first = flat.values();
  assert.deepEqual(Array.from(await first.data()), [1, 2, 3, 4, 5, 6, 7]);
  assert.equal(flat.values(), first, "the same tensor while nothing changed");
  tf.tidy(() => variables[1].assign(tf.tensor1d([8, 9, 10])));
  assert.deepEqual(Array.from(await flat.values().data()), [1, 2, 3, 4, 8, 9, 10]);
  flat.write(tf.tensor1d([0, 1, 2, 3, 4, 5, 6]));
  assert.deepEqual(Array.from(await variables[0].data()), [0, 1, 2, 3]);
  assert.deepEqual(variables[0].shape, [2, 2]);
  assert.deepEqual(Array.from(await variables[1].data()), [4, 5, 6]);
  const wrong = tf.tensor1d([1, 2]);
  assert.throws(() => flat.defer(wrong), /a vector of 2 values for 7 parameters/);
  wrong.dispose();
  flat.dispose();
  tf.dispose(variables);
});
