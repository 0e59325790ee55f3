/**
 * The /backend page's speed check, run in the jobs worker: GFLOP/s of a 512 × 512 matrix product on the
 * worker's backend. One warm-up product compiles the kernels; then ten are timed, ending in one awaited read
 * (never a synchronous one), so queued GPU work is included.
 */
import * as tf from "@tensorflow/tfjs";
import { seededTensor } from "../nn/parameters.js";

export interface SpeedCheck {
  backend: string;
  gflops: number;
  /** milliseconds per product */
  ms: number;
}

// eslint-disable-next-line require-yield
export async function* speedCheckJob(): AsyncGenerator<never, SpeedCheck> {
  const n = 512;
  const repeats = 10;
  const a = seededTensor([n, n], 1, (rng) => rng.normal());
  const b = seededTensor([n, n], 2, (rng) => rng.normal());
  try {
    const warm = tf.matMul(a, b);
    await warm.data();
    warm.dispose();
    const start = performance.now();
    for (let i = 0; i < repeats; i++) {
      const c = tf.matMul(a, b);
      if (i === repeats - 1) await c.data();
      c.dispose();
    }
    const seconds = (performance.now() - start) / 1000;
    return { backend: tf.getBackend(), gflops: (2 * n ** 3 * repeats) / seconds / 1e9, ms: (seconds * 1000) / repeats };
  } finally {
    tf.dispose([a, b]);
  }
}
