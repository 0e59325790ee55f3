/**
 * The fused group norm against the same function composed from TF.js ops (layers.ts normalizeAffine with the
 * fused kernels off), on whatever backend is current: value, tangent (dual algebra) and gradient (with respect to
 * the image, the scale and the shift). Shared by the CPU test and the WebGPU test.
 */
import * as tf from "@tensorflow/tfjs";
import { dualAlgebra, plainAlgebra, type GroupAffine } from "../src/components/nn/algebra.ts";
import { fusedGroupNormAvailable, setFusedGroupNorm, type NormActivation } from "../src/components/nn/fused-group-norm.ts";
import { normalizeAffine } from "../src/components/nn/layers.ts";
import { seededTensor } from "../src/components/nn/parameters.ts";

export interface GroupNormCase {
  shape: [number, number, number, number];
  groups: number;
  affine: "const" | "varying";
  activation: NormActivation;
}

/** Shapes with groups of fewer and of more elements than a WebGPU workgroup has threads (64). */
export const GROUP_NORM_CASES: GroupNormCase[] = [
  { shape: [2, 4, 4, 8], groups: 2, affine: "const", activation: "silu" },
  { shape: [2, 4, 4, 8], groups: 2, affine: "varying", activation: "silu" },
  { shape: [3, 6, 6, 12], groups: 3, affine: "varying", activation: "none" },
  { shape: [3, 6, 6, 12], groups: 3, affine: "const", activation: "none" },
  { shape: [2, 8, 8, 24], groups: 6, affine: "varying", activation: "silu" },
  { shape: [1, 2, 2, 4], groups: 1, affine: "const", activation: "silu" },
];

export interface GroupNormOutcome {
  value: number;
  tangent: number;
  gradX: number;
  gradScale: number;
  gradShift: number;
  /** TF.js kernels of one fused forward pass */
  kernels: number;
}

const random = (shape: number[], seed: number, scale = 1, offset = 0) => seededTensor(shape, seed, (rng) => offset + scale * (2 * rng.uniform() - 1));

/** max |a − b| / max |b|: the error relative to the reference's scale. */
export async function relativeError(a: tf.Tensor, b: tf.Tensor): Promise<number> {
  const [diff, ref] = tf.tidy(() => [tf.max(tf.abs(tf.sub(a, b))), tf.max(tf.abs(b))]);
  const [d, r] = await Promise.all([diff.data(), ref.data()]);
  tf.dispose([diff, ref]);
  return d[0] / Math.max(r[0], 1e-30);
}

/** Relative errors of the fused path against the composed one for one case. */
export async function compareWithComposed(c: GroupNormCase, seed = 1): Promise<GroupNormOutcome> {
  const [batch, , , channels] = c.shape;
  const affineShape = c.affine === "const" ? [channels] : [batch, channels];
  // Inputs with a non-zero mean and a spread unlike 1, so that μ and r matter; a scale near 1 ± 0.5.
  const x = random(c.shape, seed, 2, 0.7);
  const xDot = random(c.shape, seed + 1);
  const scale = random(affineShape, seed + 2, 0.5, 1);
  const shift = random(affineShape, seed + 3, 0.5);
  const scaleDot = random(affineShape, seed + 4);
  const shiftDot = random(affineShape, seed + 5);
  const cotangent = random(c.shape, seed + 6);
  const eps = 1e-5;

  const run = (fused: boolean) => {
    setFusedGroupNorm(fused);
    try {
      if (fused !== fusedGroupNormAvailable()) throw new Error(`the fused kernels are ${fused ? "not available" : "still on"} on ${tf.getBackend()}`);
      const plainAffine = (s: tf.Tensor, b: tf.Tensor): GroupAffine<tf.Tensor> => (c.affine === "const" ? { kind: "const", scale: s, shift: b } : { kind: "varying", scale: s, shift: b });
      const f = (xx: tf.Tensor, s: tf.Tensor, b: tf.Tensor) => normalizeAffine(plainAlgebra, xx, plainAffine(s, b), c.groups, eps, c.activation);
      const value = tf.tidy(() => f(x, scale, shift));
      const tangent = tf.tidy(() =>
        normalizeAffine(
          dualAlgebra,
          { value: x, tangent: xDot },
          c.affine === "const" ? { kind: "const", scale, shift } : { kind: "varying", scale: { value: scale, tangent: scaleDot }, shift: { value: shift, tangent: shiftDot } },
          c.groups, eps, c.activation,
        ).tangent,
      );
      const grads = tf.grads((xx: tf.Tensor, s: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(f(xx, s, b), cotangent)))([x, scale, shift]);
      return { value, tangent, grads };
    } finally {
      setFusedGroupNorm(true);
    }
  };
  const fused = run(true);
  const composed = run(false);
  setFusedGroupNorm(true);
  const profile = await tf.profile(() => {
    tf.dispose(normalizeAffine(plainAlgebra, x, c.affine === "const" ? { kind: "const", scale, shift } : { kind: "varying", scale, shift }, c.groups, eps, c.activation));
  });
  const outcome: GroupNormOutcome = {
    value: await relativeError(fused.value, composed.value),
    tangent: await relativeError(fused.tangent, composed.tangent),
    gradX: await relativeError(fused.grads[0], composed.grads[0]),
    gradScale: await relativeError(fused.grads[1], composed.grads[1]),
    gradShift: await relativeError(fused.grads[2], composed.grads[2]),
    kernels: profile.kernels.length,
  };
  tf.dispose([x, xDot, scale, shift, scaleDot, shiftDot, cotangent, fused.value, fused.tangent, fused.grads, composed.value, composed.tangent, composed.grads]);
  return outcome;
}
