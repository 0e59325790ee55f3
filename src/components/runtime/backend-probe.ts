/**
 * The backend probe: one small piece of exactly the work the pages do — a forward pass of the toy MLP, one
 * exact dual (JVP) pass, and one Adam step of the diffusion loss — read back the way pages read
 * (`await data()`), so that a backend is judged on sCM's own kernels, not on a 2×2 matmul.
 *
 * Why this matters: in headless Chromium with `--enable-unsafe-webgpu` (SwiftShader), TF.js's WebGPU backend
 * passes a 2×2 matmul, yet a synchronous read of a GPU tensor returns zeros and loses the device. A probe that
 * runs the real layers and compares the numbers with TF.js's CPU backend catches any backend that computes,
 * or reads back, wrongly.
 */
import * as tf from "@tensorflow/tfjs";
import { TimeConditionedMlp } from "../nn/mlp.js";
import { forward, jvp } from "../nn/network.js";
import { diffusionLoss } from "../objectives/diffusion.js";

/** The numbers one probe produces, flattened: F, the tangent, the loss, and F after one Adam step. */
export async function runToyProbe(): Promise<Float32Array> {
  // The stabilizer pages' network shape (8 channels per group): with 2-channel groups the norm would amplify
  // round-off so much that honest float32 backends disagree in the tangent.
  const net = new TimeConditionedMlp({ hidden: 32, blocks: 2, groups: 4, timeEmbedding: { kind: "positional", dim: 16 }, seed: 7, outputGain: 1 });
  const optimizer = tf.train.adam(1e-2);
  // Fixed inputs, away from t = 0 and π/2; values of the order of the pages' data.
  const u = tf.tensor2d([0.3, -1.1, 1.4, 0.2, -0.7, 0.9, 0.05, -0.4, 1.0, 1.0, -1.3, -0.2, 0.6, 0.6, -0.1, 1.7], [8, 2]);
  const t = tf.tensor1d([0.1, 0.3, 0.5, 0.7, 0.9, 1.1, 1.3, 1.5]);
  const uDot = tf.tensor2d([1, 0, 0, 1, 0.5, -0.5, -1, 0.2, 0.3, 0.3, 0, -1, 1, 1, -0.2, 0.4], [8, 2]);
  const tDot = tf.onesLike(t);
  const z = tf.tensor2d([0.2, 0.1, -0.3, 0.4, 0.5, -0.2, 0.1, 0.1, -0.4, 0.3, 0.2, -0.5, 0.0, 0.25, -0.15, 0.35], [8, 2]);
  try {
    const value = forward(net, u, t);
    const dual = jvp(net, u, t, uDot, tDot);
    const loss = optimizer.minimize(() => diffusionLoss(net, u, z, t), true) as tf.Scalar;
    const after = forward(net, u, t);
    const read = await Promise.all([value, dual.tangent, loss, after].map((x) => x.data()));
    tf.dispose([value, dual.value, dual.tangent, loss, after]);
    const out = new Float32Array(read.reduce((n, r) => n + r.length, 0));
    let offset = 0;
    for (const r of read) {
      out.set(r as Float32Array, offset);
      offset += r.length;
    }
    return out;
  } finally {
    tf.dispose([u, t, uDot, tDot, z]);
    optimizer.dispose();
    net.dispose();
  }
}

/**
 * Largest difference of a probe from the reference, relative to the reference's scale (max |value|, at least
 * 1). Non-finite numbers count as infinitely wrong.
 */
export function probeDeviation(result: ArrayLike<number>, reference: ArrayLike<number>): number {
  if (result.length !== reference.length) return Infinity;
  let scale = 1;
  for (let i = 0; i < reference.length; i++) scale = Math.max(scale, Math.abs(reference[i]));
  let worst = 0;
  for (let i = 0; i < reference.length; i++) {
    const d = Math.abs(result[i] - reference[i]);
    if (!Number.isFinite(d)) return Infinity;
    worst = Math.max(worst, d / scale);
  }
  return worst;
}

/**
 * Tolerance of the probe against the CPU backend. The GPU backends compute the same float32 operations in
 * another order and with their own exp/rsqrt/sin approximations, and the group norms, the JVP and the Adam step
 * amplify that: measured (relative to the largest value) 1.7e-4 for WebGPU on SwiftShader and 6.2e-3 for WebGL
 * on SwiftShader. A wrong read of zeros is off by 1 (the scale is the largest value), a dropped or garbage
 * kernel by order 1 too, so 5e-2 leaves 8× room above the worst honest backend and 20× below a broken one.
 */
export const PROBE_TOLERANCE = 5e-2;
