/**
 * The dropout-mask kernel (nn/kernels/dropout-mask.ts) on whatever backend is current, against the JavaScript
 * values every backend must reproduce bit for bit. Shared by the CPU/WASM test and the WebGPU test.
 */
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { dropoutMask } from "../src/components/nn/dropout-mask.ts";
import { DROPOUT_MASK_KERNEL, dropoutMaskValues } from "../src/components/nn/kernels/dropout-mask.ts";
import { countKernels } from "../src/components/runtime/kernel-count.ts";

/** Shapes of the UNet's and MLP's dropout sites, a size past 65,535 workgroups of 64, and a seed past 2³². */
export const MASK_CASES = [
  { shape: [2, 8, 8, 16], seed: 0, rate: 0.2 },
  { shape: [3, 4, 4, 24], seed: 7919 * 12 + 5, rate: 0.13 },
  { shape: [512, 32], seed: 123_456_789, rate: 0.5 },
  { shape: [7], seed: 2 ** 40 + 3, rate: 0.9 },
  { shape: [1, 5], seed: 1, rate: 0 },
];

export async function checkMaskMatchesJavaScript(cases = MASK_CASES): Promise<void> {
  assert.ok(tf.getKernel(DROPOUT_MASK_KERNEL, tf.getBackend()), `the kernel is registered on ${tf.getBackend()}`);
  for (const c of cases) {
    const mask = dropoutMask(c.shape, c.seed, c.rate);
    assert.deepEqual(mask.shape, c.shape);
    const got = await mask.data();
    const want = dropoutMaskValues(c);
    assert.equal(got.length, want.length);
    let differences = 0;
    for (let i = 0; i < want.length; i++) if (got[i] !== want[i]) differences++;
    assert.equal(differences, 0, `${tf.getBackend()} ${c.shape} seed ${c.seed}: ${differences} elements differ from JavaScript's`);
    mask.dispose();
  }
}

/** One kernel, no tensors left behind. */
export async function checkMaskKernels(): Promise<void> {
  const before = [tf.memory().numTensors, tf.engine().backend.numDataIds()];
  const count = await countKernels(async () => {
    const mask = dropoutMask([4, 8, 8, 16], 3, 0.2);
    await mask.data();
    mask.dispose();
  });
  assert.equal(count.total, 1, JSON.stringify(count.byName));
  if (count.dispatches !== null) assert.equal(count.dispatches, 1);
  assert.deepEqual([tf.memory().numTensors, tf.engine().backend.numDataIds()], before);
}
