/**
 * The fused group norms against the same functions composed from TF.js ops (layers.ts normalizeAffine with the
 * fused kernels off), on whatever backend is current: value, tangent (dual algebra) and gradient with respect to
 * the image and every scale/shift input. Shared by the CPU test and the WebGPU test.
 */
import * as tf from "@tensorflow/tfjs";
import { dualAlgebra, plainAlgebra, type Dual, type GroupAffine } from "../src/components/nn/algebra.ts";
import { fusedActivationPays, fusedGroupNormAvailable, withoutFusedGroupNorm, type NormActivation } from "../src/components/nn/fused-group-norm.ts";
import { normalizeAffine } from "../src/components/nn/layers.ts";
import { seededTensor } from "../src/components/nn/parameters.ts";

export interface GroupNormCase {
  /** NHWC images [B, H, W, C], or [B, C] vectors (the toy MLP's norms) */
  shape: [number, number, number, number] | [number, number];
  groups: number;
  /** const: GroupNorm's [C] γ, β; varying: [B, C] scale and shift; double/adagn: the adaptive norm's packed [B, 2C] */
  affine: "const" | "varying" | "double" | "adagn";
  activation: NormActivation;
}

/**
 * Shapes with groups of fewer and of more elements than a WebGPU workgroup has threads (64), and C > 64; vectors
 * at the toy MLP's own shapes (512 samples of 32 channels in 4 groups) and with one group of 128 channels.
 */
export const GROUP_NORM_CASES: GroupNormCase[] = [
  { shape: [2, 4, 4, 8], groups: 2, affine: "const", activation: "silu" },
  { shape: [2, 4, 4, 8], groups: 2, affine: "varying", activation: "silu" },
  { shape: [3, 6, 6, 12], groups: 3, affine: "varying", activation: "none" },
  { shape: [3, 6, 6, 12], groups: 3, affine: "const", activation: "none" },
  { shape: [2, 8, 8, 24], groups: 6, affine: "varying", activation: "silu" },
  { shape: [1, 2, 2, 4], groups: 1, affine: "const", activation: "silu" },
  { shape: [2, 4, 4, 8], groups: 2, affine: "double", activation: "silu" },
  { shape: [3, 6, 6, 12], groups: 3, affine: "double", activation: "none" },
  { shape: [2, 4, 4, 80], groups: 20, affine: "double", activation: "silu" },
  { shape: [2, 8, 8, 24], groups: 6, affine: "adagn", activation: "silu" },
  { shape: [512, 32], groups: 4, affine: "double", activation: "silu" },
  { shape: [512, 32], groups: 4, affine: "const", activation: "silu" },
  { shape: [3, 12], groups: 3, affine: "varying", activation: "none" },
  { shape: [2, 128], groups: 1, affine: "adagn", activation: "none" },
  { shape: [2, 80], groups: 20, affine: "double", activation: "silu" },
];

export interface GroupNormOutcome {
  value: number;
  tangent: number;
  /** relative errors of the gradients: the image's, then each scale/shift input's */
  grads: number[];
  /** TF.js kernels of one fused forward pass */
  kernels: number;
  /** the kernels that pass should take: 1, or 3 where a SiLU runs outside the norm's kernel (fusedActivationPays) */
  expectedKernels: number;
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
  const batch = c.shape[0];
  const channels = c.shape[c.shape.length - 1];
  const packed = c.affine === "double" || c.affine === "adagn";
  const paramShape = packed ? [batch, 2 * channels] : c.affine === "const" ? [channels] : [batch, channels];
  // Inputs with a non-zero mean and a spread unlike 1, so that μ and r matter; scales near 1 ± 0.5.
  const x = random(c.shape, seed, 2, 0.7);
  const xDot = random(c.shape, seed + 1);
  const params = packed ? [random(paramShape, seed + 2, 0.5, 0.3)] : [random(paramShape, seed + 2, 0.5, 1), random(paramShape, seed + 3, 0.5)];
  const paramDots = params.map((p, i) => random(p.shape, seed + 4 + i));
  const cotangent = random(c.shape, seed + 6);
  const eps = 1e-5;

  const affineOf = <X>(ps: X[]): GroupAffine<X> =>
    c.affine === "double" || c.affine === "adagn" ? { kind: "packed", affine: ps[0], norm: c.affine } : { kind: "varying", scale: ps[0], shift: ps[1] };
  const plain = (xx: tf.Tensor, ...ps: tf.Tensor[]) =>
    normalizeAffine(plainAlgebra, xx, c.affine === "const" ? { kind: "const", scale: ps[0], shift: ps[1] } : affineOf(ps), c.groups, eps, c.activation);
  const dualAffine: GroupAffine<Dual> =
    c.affine === "const" ? { kind: "const", scale: params[0], shift: params[1] } : affineOf(params.map((value, i): Dual => ({ value, tangent: paramDots[i] })));

  const run = () => {
    const value = tf.tidy(() => plain(x, ...params));
    const tangent = tf.tidy(() => normalizeAffine(dualAlgebra, { value: x, tangent: xDot }, dualAffine, c.groups, eps, c.activation).tangent);
    const grads = tf.grads((xx: tf.Tensor, ...ps: tf.Tensor[]) => tf.sum(tf.mul(plain(xx, ...ps), cotangent)))([x, ...params]);
    return { value, tangent, grads };
  };
  if (!fusedGroupNormAvailable()) throw new Error(`the fused kernels are not available on ${tf.getBackend()}`);
  const fused = run();
  const composed = withoutFusedGroupNorm(run);
  const profile = await tf.profile(() => {
    tf.tidy(() => void plain(x, ...params));
  });
  const outcome: GroupNormOutcome = {
    value: await relativeError(fused.value, composed.value),
    tangent: await relativeError(fused.tangent, composed.tangent),
    grads: await Promise.all(fused.grads.map((g, i) => relativeError(g, composed.grads[i]))),
    kernels: profile.kernels.length,
    expectedKernels: c.activation === "none" || fusedActivationPays() ? 1 : 3,
  };
  tf.dispose([x, xDot, params, paramDots, cotangent, fused.value, fused.tangent, fused.grads, composed.value, composed.tangent, composed.grads]);
  return outcome;
}
