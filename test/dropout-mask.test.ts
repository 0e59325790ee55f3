/**
 * Dropout masks drawn by a counter-based hash (nn/kernels/dropout-mask.ts): the same bits on the CPU and WASM
 * kernels as in JavaScript (WebGPU: test/webgpu/fused-kernels-webgpu.test.ts), the statistics of a Bernoulli
 * mask, a fresh mask for every seed, and clear errors for a bad rate or seed.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import "@tensorflow/tfjs-backend-wasm";
import { checkMaskKernels, checkMaskMatchesJavaScript } from "./dropout-mask-check.ts";
import { dropoutMaskValues } from "../src/components/nn/kernels/dropout-mask.ts";
import { Dropout } from "../src/components/nn/layers.ts";
import { plainAlgebra } from "../src/components/nn/algebra.ts";

for (const backend of ["cpu", "wasm"]) {
  test(`${backend}: the dropout-mask kernel gives JavaScript's mask bit for bit, as one kernel, leaking nothing`, async () => {
    assert.ok(await tf.setBackend(backend));
    await checkMaskMatchesJavaScript();
    await checkMaskKernels();
  });
}

test("a mask keeps each unit with probability 1 − rate, as 1/(1 − rate), independently across units and seeds", () => {
  const n = 200_000;
  for (const rate of [0.13, 0.2, 0.5]) {
    const scale = Math.fround(1 / (1 - rate));
    const a = dropoutMaskValues({ shape: [n], seed: 41, rate });
    const b = dropoutMaskValues({ shape: [n], seed: 42, rate });
    assert.ok(a.every((v) => v === 0 || v === scale), "values are 0 or 1/(1 − rate)");
    const keep = 1 - rate;
    const kept = a.filter((v) => v !== 0).length / n;
    // Binomial: sd √(p(1 − p)/n) ≈ 0.0011 at p = 0.5; 5 sd never fails by chance (p ≈ 6e-7) and catches a rate off by 0.006.
    const sd = Math.sqrt((keep * (1 - keep)) / n);
    assert.ok(Math.abs(kept - keep) < 5 * sd, `rate ${rate}: kept ${kept}, expected ${keep} ± ${sd}`);
    // Two seeds agree where both keep or both drop: p² + (1 − p)² for independent masks.
    const agree = a.filter((v, i) => (v !== 0) === (b[i] !== 0)).length / n;
    const expected = keep ** 2 + (1 - keep) ** 2;
    assert.ok(Math.abs(agree - expected) < 5 * Math.sqrt((expected * (1 - expected)) / n), `rate ${rate}: seeds 41 and 42 agree on ${agree}, independent masks on ${expected}`);
    // Neighbouring units are independent too: keep-after-keep as often as keep.
    let pairs = 0;
    for (let i = 1; i < n; i++) if (a[i] !== 0 && a[i - 1] !== 0) pairs++;
    assert.ok(Math.abs(pairs / (n - 1) - keep ** 2) < 5 * Math.sqrt((keep ** 2 * (1 - keep ** 2)) / n), `rate ${rate}: adjacent kept pairs ${pairs / (n - 1)} vs ${keep ** 2}`);
  }
});

test("the same seed gives the same mask (the plain and the dual pass share it); a bad rate or seed is refused", () => {
  assert.deepEqual(dropoutMaskValues({ shape: [100], seed: 9, rate: 0.3 }), dropoutMaskValues({ shape: [100], seed: 9, rate: 0.3 }));
  assert.notDeepEqual(dropoutMaskValues({ shape: [100], seed: 9, rate: 0.3 }), dropoutMaskValues({ shape: [100], seed: 10, rate: 0.3 }));
  assert.throws(() => dropoutMaskValues({ shape: [4], seed: 1, rate: 1 }), /a dropout rate is in \[0, 1\), not 1/);
  assert.throws(() => dropoutMaskValues({ shape: [4], seed: -1, rate: 0.2 }), /a dropout seed is a non-negative integer, not -1/);
  assert.throws(() => dropoutMaskValues({ shape: [4], seed: 1.5, rate: 0.2 }), /not 1.5/);
});

test("the Dropout layer multiplies by the mask of its (seed, site), and is the identity without a seed", async () => {
  assert.ok(await tf.setBackend("cpu"));
  const x = tf.ones([4, 8]);
  const layer = new Dropout(0.25, 3);
  const y = layer.apply(plainAlgebra, x, 17);
  assert.deepEqual(Array.from(await y.data()), Array.from(dropoutMaskValues({ shape: [4, 8], seed: 17 * 7919 + 3, rate: 0.25 })));
  assert.equal(layer.apply(plainAlgebra, x, null), x);
  tf.dispose([x, y]);
});
