/**
 * Group norm, its affine map and an optional SiLU as one TF.js kernel, with one kernel for its tangent and one
 * for its gradient: y = act(n(x)·a + b), n(x) = (x − μ)·r the group-normalised image (μ, r = 1/√(σ² + ε) per
 * sample and group of channels), a and b a scale and a shift per channel ([C], GroupNorm's γ and β) or per
 * sample and channel ([B, C]). The time-adaptive norm (§4.1) has its own three kernels, which take its dense
 * layer's packed output [s, b] ([B, 2C]) and make a and b from it inside (fusedAdaptiveNorm below).
 *
 * Why: written with TF.js's elementwise ops this is ~12 kernels forward, ~20 for the tangent and ~40 for the
 * gradient, each a GPU dispatch of fixed cost, and a small UNet has 30 such norms: most of an sCT step's
 * kernels (and the toy MLP's two norms were ~45% of its sCT step's). Fused, it is 1 kernel forward (1 dispatch),
 * 1 for the tangent (1 dispatch), 1 for the gradient (3 dispatches on WebGPU). Backends with a fused
 * implementation register it (kernels/: CPU, WASM, WebGPU), and each kernel checks the shapes it is given
 * (kernels/group-norm-contract.ts: NHWC images or [B, C] vectors); elsewhere (WebGL, half precision) layers.ts
 * composes the same function from the algebra's primitives, which is also the reference the fused kernels are
 * tested against.
 *
 * The formulas (derivatives of the definition above, with z = n·a + b and act'(z) = σ(z)(1 + z(1 − σ(z))) for
 * SiLU, 1 without activation; mean_g averages over a sample's group, Σ over the positions, and over the batch
 * for a shared [C] scale):
 *   tangent   ẏ = act'(z)·(ṅ·a + n·ȧ + ḃ),  ṅ = r·(ẋ_c − n·mean_g(n·ẋ_c)),  ẋ_c = ẋ − mean_g(ẋ)
 *   gradient  dz = dy·act'(z),  db = Σ dz,  da = Σ dz·n,  dx = r·(dn − mean_g(dn) − n·mean_g(dn·n)),  dn = dz·a
 * The gradient kernels have no gradient of their own: second derivatives (the double-VJP check) need the composed
 * path, `withoutFusedGroupNorm`. sCM never needs them: its tangent is stop-gradient (Alg. 1).
 */
import * as tf from "@tensorflow/tfjs";
import {
  ADAPTIVE_NORM_GRAD_KERNEL, ADAPTIVE_NORM_KERNEL, ADAPTIVE_NORM_TANGENT_KERNEL, GROUP_NORM_GRAD_KERNEL, GROUP_NORM_KERNEL, GROUP_NORM_TANGENT_KERNEL,
  type AdaptiveNormAttrs, type GroupNormAttrs,
} from "./kernels/group-norm-contract.js";
import { registerCpuGroupNorm, registerWasmGroupNorm } from "./kernels/group-norm-js.js";
import { registerWebGpuGroupNorm } from "./kernels/group-norm-webgpu.js";

export type { AdaptiveNormAffine, AdaptiveNormAttrs, GroupNormAttrs, NormActivation } from "./kernels/group-norm-contract.js";

registerCpuGroupNorm();
registerWasmGroupNorm();
registerWebGpuGroupNorm();

const KERNELS = [GROUP_NORM_KERNEL, GROUP_NORM_TANGENT_KERNEL, GROUP_NORM_GRAD_KERNEL, ADAPTIVE_NORM_KERNEL, ADAPTIVE_NORM_TANGENT_KERNEL, ADAPTIVE_NORM_GRAD_KERNEL];

let enabled = true;

/**
 * Runs work with the fused kernels off everywhere (second derivatives need the composed ops; tests compare the two
 * paths), then restores the setting.
 */
export function withoutFusedGroupNorm<T>(work: () => T): T {
  const was = enabled;
  enabled = false;
  try {
    return work();
  } finally {
    enabled = was;
  }
}

/**
 * Whether the SiLU after a norm belongs inside the fused kernel on the current backend. Everywhere but WASM: one
 * kernel instead of ~15 (forward, tangent, gradient). On WASM the kernel is JavaScript, whose Math.exp costs ~14 ns
 * an element on this project's 2-core reference machine, while the backend's own Sigmoid is vectorised C++: the toy
 * sCT step measured 11.8 ms with the SiLU inside and 10.3 ms with it outside (scripts/bench/toy.ts' network).
 */
export function fusedActivationPays(): boolean {
  return tf.getBackend() !== "wasm";
}

/** Whether the current backend runs group norms as fused kernels. */
export function fusedGroupNormAvailable(): boolean {
  if (!enabled) return false;
  const backend = tf.getBackend();
  return backend !== undefined && KERNELS.every((name) => tf.getKernel(name, backend) !== undefined);
}

const attrsOf = (a: GroupNormAttrs | AdaptiveNormAttrs) => ({ ...a }) as unknown as tf.NamedAttrMap;

/** act(n(x)·scale + shift), recorded on the gradient tape like any TF.js op. */
export function fusedGroupNorm(x: tf.Tensor, scale: tf.Tensor, shift: tf.Tensor, attrs: GroupNormAttrs): tf.Tensor {
  return tf.engine().runKernel(GROUP_NORM_KERNEL, { x, scale, shift }, attrsOf(attrs)) as tf.Tensor;
}

/** ẏ for the tangents ẋ, ȧ, ḃ (ȧ and ḃ null for a constant scale and shift). Not differentiable. */
export function fusedGroupNormTangent(
  x: tf.Tensor, xDot: tf.Tensor, scale: tf.Tensor, shift: tf.Tensor, scaleDot: tf.Tensor | null, shiftDot: tf.Tensor | null, attrs: GroupNormAttrs,
): tf.Tensor {
  if ((scaleDot === null) !== (shiftDot === null)) throw new RangeError("give the tangents of both the scale and the shift, or of neither");
  const inputs: tf.NamedTensorMap = { x, xDot, scale, shift };
  if (scaleDot && shiftDot) Object.assign(inputs, { scaleDot, shiftDot });
  return tf.engine().runKernel(GROUP_NORM_TANGENT_KERNEL, inputs, attrsOf(attrs)) as tf.Tensor;
}

tf.registerGradient({
  kernelName: GROUP_NORM_KERNEL,
  inputsToSave: ["x", "scale", "shift"],
  gradFunc: (dy, saved, attrs) => {
    const [x, scale, shift] = saved;
    const [dx, dScale, dShift] = tf.engine().runKernel(GROUP_NORM_GRAD_KERNEL, { dy: dy as tf.Tensor, x, scale, shift }, attrs) as tf.Tensor[];
    return { x: () => dx, scale: () => dScale, shift: () => dShift };
  },
});

/**
 * The time-adaptive norm (§4.1): act(n(x)·â + b̂) with â, b̂ made from the packed output [s, b] ([B, 2C]) of its
 * dense layer inside the kernel — pixel-normalised halves ("double") or (1 + s, b) ("adagn") — so that neither the
 * split nor the two pixel norms run as separate kernels.
 */
export function fusedAdaptiveNorm(x: tf.Tensor, affine: tf.Tensor, attrs: AdaptiveNormAttrs): tf.Tensor {
  return tf.engine().runKernel(ADAPTIVE_NORM_KERNEL, { x, affine }, attrsOf(attrs)) as tf.Tensor;
}

/** ẏ of fusedAdaptiveNorm for the tangents ẋ and ȧ (of the packed affine). Not differentiable. */
export function fusedAdaptiveNormTangent(x: tf.Tensor, xDot: tf.Tensor, affine: tf.Tensor, affineDot: tf.Tensor, attrs: AdaptiveNormAttrs): tf.Tensor {
  return tf.engine().runKernel(ADAPTIVE_NORM_TANGENT_KERNEL, { x, xDot, affine, affineDot }, attrsOf(attrs)) as tf.Tensor;
}

tf.registerGradient({
  kernelName: ADAPTIVE_NORM_KERNEL,
  inputsToSave: ["x", "affine"],
  gradFunc: (dy, saved, attrs) => {
    const [x, affine] = saved;
    const [dx, dAffine] = tf.engine().runKernel(ADAPTIVE_NORM_GRAD_KERNEL, { dy: dy as tf.Tensor, x, affine }, attrs) as tf.Tensor[];
    return { x: () => dx, affine: () => dAffine };
  },
});
