/**
 * The fused group norms' kernels as WGSL programs for TF.js's WebGPU backend: one workgroup per (sample, group)
 * reduces the group's statistics in workgroup memory and writes the group's outputs, so the value is one dispatch
 * and the tangent one; the gradient is three (dx; the scale's and shift's gradients, one workgroup per entry; for
 * the adaptive norm, the second is both halves at once and the third takes them back through the pixel norms).
 * The image sizes are compiled into each shader (and its cache key). Formulas and notation as in
 * ../fused-group-norm.ts; the same arithmetic on arrays is group-norm-math.ts.
 *
 * A vector's group ([B, C], one position per sample: the 2-D MLP's) has only a few values, and a 64-thread
 * workgroup per group left 60 of them idle through every barrier: a /stabilizers-size sCT step ran 5× slower than
 * the composed ops on SwiftShader. For vectors the same programs run with one thread per unit of work instead (a
 * (sample, group), or an entry of a scale's gradient), each looping over its few values alone: the `Spread`.
 */
import * as tf from "@tensorflow/tfjs";
import { KEEP_UNIFORMS, WORKGROUP_INDEX, type WebGpuBackendLike, type WebGpuProgram } from "./webgpu-program.js";
import {
  ADAPTIVE_NORM_GRAD_KERNEL, ADAPTIVE_NORM_KERNEL, ADAPTIVE_NORM_TANGENT_KERNEL, GROUP_NORM_GRAD_KERNEL, GROUP_NORM_KERNEL, GROUP_NORM_TANGENT_KERNEL,
  PIXEL_NORM_EPS, adaptiveNormGeometry, groupNormGeometry,
  type AdaptiveNormAffine, type AdaptiveNormAttrs, type AdaptiveNormGradInputs, type AdaptiveNormInputs, type AdaptiveNormTangentInputs,
  type GroupNormAttrs, type GroupNormGeometry, type GroupNormGradInputs, type GroupNormInputs, type GroupNormTangentInputs,
} from "./group-norm-contract.js";
import { registerTypedKernel } from "./typed-kernel.js";

const BACKEND = "webgpu";
const THREADS = 64;

/** A workgroup per unit of work, its threads sharing the loops and summing in workgroup memory; or a thread per unit. */
type Spread = "workgroup" | "thread";

/** Vectors' groups are a few values each (see above); an image's group has at least its positions. */
const spreadOf = (g: GroupNormGeometry): Spread => (g.positions === 1 ? "thread" : "workgroup");

/**
 * Where a program reads its scale and shift: GroupNorm's separate tensors ([C] or [B, C], with tangents or
 * without), or the adaptive norm's packed [B, 2C] made into scale and shift by pixel norms or 1 + s.
 */
type AffineSource = { kind: "separate"; tangents: boolean } | { kind: "packed"; norm: AdaptiveNormAffine };

/**
 * gnLane() and gnT, where a loop over a unit's values starts and its stride, and gnSum2, the unit's sum of two
 * values at once: across the workgroup (every thread must call it: it holds barriers), or the thread's own.
 */
function spreadSnippet(spread: Spread): string {
  if (spread === "thread") {
    return `
const gnT : i32 = 1;
fn gnLane() -> i32 { return 0; }
fn gnSum2(v : vec2<f32>) -> vec2<f32> { return v; }`;
  }
  return `
const gnT : i32 = ${THREADS};
fn gnLane() -> i32 { return i32(localId.x); }
var<workgroup> gnPartial : array<vec2<f32>, ${THREADS}>;
fn gnSum2(v : vec2<f32>) -> vec2<f32> {
  let t = localId.x;
  gnPartial[t] = v;
  workgroupBarrier();
  for (var stride = ${THREADS / 2}u; stride > 0u; stride = stride / 2u) {
    if (t < stride) { gnPartial[t] = gnPartial[t] + gnPartial[t + stride]; }
    workgroupBarrier();
  }
  let total = gnPartial[0];
  workgroupBarrier();
  return total;
}`;
}

/**
 * Shared WGSL: the geometry as constants, act/dAct, the unit's sum of two values at once, the group's statistics,
 * and gnScale/gnShift (and their tangents) for the affine source. Every thread of a workgroup calls gnSum2 (it
 * holds barriers), and so gnStats and gnSetup: they are called from uniform control flow only.
 */
function prelude(g: GroupNormGeometry, a: GroupNormAttrs, source: AffineSource, tangent: boolean): string {
  const width = g.channels / g.groups;
  return `
const gnS : i32 = ${g.positions};
const gnC : i32 = ${g.channels};
const gnG : i32 = ${g.groups};
const gnW : i32 = ${width};
const gnCount : i32 = ${g.positions * width};
const gnEps : f32 = ${a.eps.toExponential()};
const gnPerSample : bool = ${g.perSample};

fn gnAct(z : f32) -> f32 { ${a.activation === "silu" ? "return z / (1.0 + exp(-z));" : "return z;"} }
fn gnDAct(z : f32) -> f32 { ${a.activation === "silu" ? "let s = 1.0 / (1.0 + exp(-z)); return s * (1.0 + z * (1.0 - s));" : "return 1.0;"} }

${spreadSnippet(spreadOf(g))}

// flat index of the k-th element of the group whose first element is at 'first'
fn gnAt(first : i32, k : i32) -> i32 { return first + (k / gnW) * gnC + k % gnW; }
fn gnChannel(first : i32, k : i32) -> i32 { return first % gnC + k % gnW; }

// mean and r = 1/sqrt(var + eps) of the group at 'first', two passes as tf.moments
fn gnStats(first : i32) -> vec2<f32> {
  var acc = 0.0;
  for (var k = gnLane(); k < gnCount; k = k + gnT) { acc = acc + x[gnAt(first, k)]; }
  let mean = gnSum2(vec2<f32>(acc, 0.0)).x / f32(gnCount);
  var sq = 0.0;
  for (var k = gnLane(); k < gnCount; k = k + gnT) { let d = x[gnAt(first, k)] - mean; sq = sq + d * d; }
  let variance = gnSum2(vec2<f32>(sq, 0.0)).x / f32(gnCount);
  return vec2<f32>(mean, inverseSqrt(variance + gnEps));
}
${affineSnippet(source, tangent)}`;
}

/**
 * gnSetup(b) (per-sample preparation: the pixel norms' ρ), gnScale(b, c), gnShift(b, c), and in a tangent program
 * gnSetupTangent(b), gnScaleDot(b, c), gnShiftDot(b, c).
 */
function affineSnippet(source: AffineSource, tangent: boolean): string {
  if (source.kind === "separate") {
    return `
fn gnParam(b : i32, c : i32) -> i32 { if (gnPerSample) { return b * gnC + c; } return c; }
fn gnSetup(b : i32) {}
fn gnScale(b : i32, c : i32) -> f32 { return scale[gnParam(b, c)]; }
fn gnShift(b : i32, c : i32) -> f32 { return shift[gnParam(b, c)]; }${
      tangent
        ? `
fn gnSetupTangent(b : i32) {}
fn gnScaleDot(b : i32, c : i32) -> f32 { return ${source.tangents ? "scaleDot[gnParam(b, c)]" : "0.0"}; }
fn gnShiftDot(b : i32, c : i32) -> f32 { return ${source.tangents ? "shiftDot[gnParam(b, c)]" : "0.0"}; }`
        : ""
    }`;
  }
  // s at affine[b·2C + c], its tangent at affineDot[…]; b at the same index + C
  const at = (array: string, half: 0 | 1) => `${array}[b * 2 * gnC + ${half === 1 ? "gnC + " : ""}c]`;
  if (source.norm === "adagn") {
    return `
fn gnSetup(b : i32) {}
fn gnScale(b : i32, c : i32) -> f32 { return 1.0 + ${at("affine", 0)}; }
fn gnShift(b : i32, c : i32) -> f32 { return ${at("affine", 1)}; }${
      tangent
        ? `
fn gnSetupTangent(b : i32) {}
fn gnScaleDot(b : i32, c : i32) -> f32 { return ${at("affineDot", 0)}; }
fn gnShiftDot(b : i32, c : i32) -> f32 { return ${at("affineDot", 1)}; }`
        : ""
    }`;
  }
  // double: â = a·ρ, ρ = 1/sqrt(mean_c a² + ε) per half; â' = ρ·(ȧ − a·ρ²·mean_c(a·ȧ))
  return `
var<private> gnRho : vec2<f32>;
fn gnSetup(b : i32) {
  var acc = vec2<f32>(0.0, 0.0);
  for (var c = gnLane(); c < gnC; c = c + gnT) { acc = acc + vec2<f32>(${at("affine", 0)} * ${at("affine", 0)}, ${at("affine", 1)} * ${at("affine", 1)}); }
  gnRho = inverseSqrt(gnSum2(acc) / f32(gnC) + ${PIXEL_NORM_EPS.toExponential()});
}
fn gnScale(b : i32, c : i32) -> f32 { return ${at("affine", 0)} * gnRho.x; }
fn gnShift(b : i32, c : i32) -> f32 { return ${at("affine", 1)} * gnRho.y; }${
    tangent
      ? `
var<private> gnM : vec2<f32>;
fn gnSetupTangent(b : i32) {
  var acc = vec2<f32>(0.0, 0.0);
  for (var c = gnLane(); c < gnC; c = c + gnT) { acc = acc + vec2<f32>(${at("affine", 0)} * ${at("affineDot", 0)}, ${at("affine", 1)} * ${at("affineDot", 1)}); }
  gnM = gnSum2(acc) / f32(gnC);
}
fn gnScaleDot(b : i32, c : i32) -> f32 { return gnRho.x * (${at("affineDot", 0)} - ${at("affine", 0)} * gnRho.x * gnRho.x * gnM.x); }
fn gnShiftDot(b : i32, c : i32) -> f32 { return gnRho.y * (${at("affineDot", 1)} - ${at("affine", 1)} * gnRho.y * gnRho.y * gnM.y); }`
      : ""
  }`;
}

/**
 * A program over `units` units of work, a workgroup or a thread each (`spread`). Past 65,535 workgroups (WebGPU's
 * guaranteed limit per dimension) TF.js spreads them over a 2-D or 3-D grid of at least as many; main's `unit` is
 * the linear index, clamped so that the extra workgroups or threads redo the last unit (identical writes) instead of
 * returning early, which would break the barriers' uniformity.
 */
function program(name: string, key: string, variableNames: string[], outputShape: number[], units: number, spread: Spread, code: string): WebGpuProgram {
  const unitIndex = spread === "thread" ? `(${WORKGROUP_INDEX}) * ${THREADS} + i32(localId.x)` : WORKGROUP_INDEX;
  return {
    variableNames,
    outputShape,
    shaderKey: `scm_group_norm_${name}_${spread}_${key}`,
    dispatchLayout: { x: outputShape.map((_, i) => i) },
    dispatch: [spread === "thread" ? Math.ceil(units / THREADS) : units, 1, 1],
    workgroupSize: [THREADS, 1, 1],
    getUserCode: () => code.replaceAll("UNIT_INDEX", unitIndex).replaceAll("LAST_UNIT", String(units - 1)),
  };
}

const keyOf = (g: GroupNormGeometry, a: GroupNormAttrs, source: AffineSource) =>
  `${g.batch}_${g.positions}_${g.channels}_${g.groups}_${g.perSample}_${a.eps}_${a.activation}_${source.kind === "separate" ? `separate_${source.tangents}` : source.norm}`;

/** Input names of the scale and shift, and of their tangents, for a source. */
const affineNames = (source: AffineSource, tangent: boolean) =>
  source.kind === "packed" ? ["affine", ...(tangent ? ["affineDot"] : [])] : ["scale", "shift", ...(tangent && source.tangents ? ["scaleDot", "shiftDot"] : [])];

/** The start of main: TF.js's uniforms kept bound, and this unit's linear index (then, per group, its sample b and first element). */
const MAIN = `fn main(index : i32) {
  ${KEEP_UNIFORMS}
  let unit = min(UNIT_INDEX, LAST_UNIT);`;
const GROUP_HEADER = `${MAIN}
  let b = unit / gnG;
  let first = b * gnS * gnC + (unit % gnG) * gnW;
  let ms = gnStats(first);
  let mean = ms.x;
  let r = ms.y;
  gnSetup(b);`;

function shaderCode(g: GroupNormGeometry, a: GroupNormAttrs, source: AffineSource, tangent: boolean, body: string): string {
  return `${prelude(g, a, source, tangent)}\n${body}`;
}

function forwardProgram(g: GroupNormGeometry, a: GroupNormAttrs, source: AffineSource, shape: number[]): WebGpuProgram {
  return program("forward", keyOf(g, a, source), ["x", ...affineNames(source, false)], shape, g.batch * g.groups, spreadOf(g), shaderCode(g, a, source, false, `
${GROUP_HEADER}
  for (var k = gnLane(); k < gnCount; k = k + gnT) {
    let i = gnAt(first, k);
    let c = gnChannel(first, k);
    result[i] = gnAct((x[i] - mean) * r * gnScale(b, c) + gnShift(b, c));
  }
}`));
}

function tangentProgram(g: GroupNormGeometry, a: GroupNormAttrs, source: AffineSource, shape: number[]): WebGpuProgram {
  const names = ["x", "xDot", ...affineNames(source, true)];
  return program("tangent", keyOf(g, a, source), names, shape, g.batch * g.groups, spreadOf(g), shaderCode(g, a, source, true, `
${GROUP_HEADER}
  gnSetupTangent(b);
  var acc = 0.0;
  for (var k = gnLane(); k < gnCount; k = k + gnT) { acc = acc + xDot[gnAt(first, k)]; }
  let dotMean = gnSum2(vec2<f32>(acc, 0.0)).x / f32(gnCount);
  var proj = 0.0;
  for (var k = gnLane(); k < gnCount; k = k + gnT) { let i = gnAt(first, k); proj = proj + (x[i] - mean) * r * (xDot[i] - dotMean); }
  let projection = gnSum2(vec2<f32>(proj, 0.0)).x / f32(gnCount);
  for (var k = gnLane(); k < gnCount; k = k + gnT) {
    let i = gnAt(first, k);
    let c = gnChannel(first, k);
    let n = (x[i] - mean) * r;
    let nDot = r * (xDot[i] - dotMean - n * projection);
    let zDot = nDot * gnScale(b, c) + n * gnScaleDot(b, c) + gnShiftDot(b, c);
    result[i] = gnDAct(n * gnScale(b, c) + gnShift(b, c)) * zDot;
  }
}`));
}

/** dx = r·(dn − mean_g(dn) − n·mean_g(dn·n)), dn = dz·scale. */
function inputGradientProgram(g: GroupNormGeometry, a: GroupNormAttrs, source: AffineSource, shape: number[]): WebGpuProgram {
  return program("dx", keyOf(g, a, source), ["dy", "x", ...affineNames(source, false)], shape, g.batch * g.groups, spreadOf(g), shaderCode(g, a, source, false, `
fn gnDn(i : i32, b : i32, c : i32, n : f32) -> f32 { return dy[i] * gnDAct(n * gnScale(b, c) + gnShift(b, c)) * gnScale(b, c); }
${GROUP_HEADER}
  var acc = vec2<f32>(0.0, 0.0);
  for (var k = gnLane(); k < gnCount; k = k + gnT) {
    let i = gnAt(first, k);
    let n = (x[i] - mean) * r;
    let dn = gnDn(i, b, gnChannel(first, k), n);
    acc = acc + vec2<f32>(dn, dn * n);
  }
  let means = gnSum2(acc) / f32(gnCount);
  for (var k = gnLane(); k < gnCount; k = k + gnT) {
    let i = gnAt(first, k);
    let n = (x[i] - mean) * r;
    result[i] = r * (gnDn(i, b, gnChannel(first, k), n) - means.x - n * means.y);
  }
}`));
}

/** Σ over positions (and over the batch for a shared scale) of dz·n (the scale's gradient) or dz (the shift's), at sample b, channel c. */
const AFFINE_SUM = `
fn gnAffineSum(b : i32, c : i32, isScale : bool) -> f32 {
  let ms = gnStats(b * gnS * gnC + (c / gnW) * gnW);
  var acc = 0.0;
  for (var s = gnLane(); s < gnS; s = s + gnT) {
    let i = (b * gnS + s) * gnC + c;
    let n = (x[i] - ms.x) * ms.y;
    let dz = dy[i] * gnDAct(n * gnScale(b, c) + gnShift(b, c));
    acc = acc + select(dz, dz * n, isScale);
  }
  return gnSum2(vec2<f32>(acc, 0.0)).x;
}`;

/** GroupNorm's scale gradient (Σ dz·n) or shift gradient (Σ dz): one workgroup per entry of the [C] or [B, C] tensor. */
function separateAffineGradientProgram(g: GroupNormGeometry, a: GroupNormAttrs, shape: number[], which: "scale" | "shift"): WebGpuProgram {
  const source: AffineSource = { kind: "separate", tangents: false };
  const entries = shape.reduce((p, q) => p * q, 1);
  // Barriers need uniform control flow: a loop over a constant batch, or no loop.
  const body = g.perSample
    ? `result[e] = gnAffineSum(e / gnC, c, ${which === "scale"});`
    : `var total = 0.0;
  for (var b = 0; b < ${g.batch}; b = b + 1) { total = total + gnAffineSum(b, c, ${which === "scale"}); }
  result[e] = total;`;
  return program(`d${which}`, keyOf(g, a, source), ["dy", "x", "scale", "shift"], shape, entries, spreadOf(g), shaderCode(g, a, source, false, `${AFFINE_SUM}
${MAIN}
  let e = unit;
  let c = e % gnC;
  ${body}
}`));
}

/** The adaptive norm's d(scale, shift) as one packed [B, 2C] tensor: one workgroup per entry. */
function packedHatGradientProgram(g: GroupNormGeometry, a: GroupNormAttrs, norm: AdaptiveNormAffine, shape: number[]): WebGpuProgram {
  const source: AffineSource = { kind: "packed", norm };
  return program("dhat", keyOf(g, a, source), ["dy", "x", "affine"], shape, shape[0] * shape[1], spreadOf(g), shaderCode(g, a, source, false, `${AFFINE_SUM}
${MAIN}
  let e = unit;
  let b = e / (2 * gnC);
  let k = e % (2 * gnC);
  gnSetup(b);
  result[e] = gnAffineSum(b, k % gnC, k < gnC);
}`));
}

/** Back through the pixel norms: da = ρ·(dâ − a·ρ²·mean_c(a·dâ)), one workgroup per (sample, half). */
function pixelNormGradientProgram(batch: number, channels: number, shape: number[]): WebGpuProgram {
  return program("dpixel", `${batch}_${channels}`, ["affine", "dHat"], shape, 2 * batch, "workgroup", `
const gnC : i32 = ${channels};
${spreadSnippet("workgroup")}
${MAIN}
  let first = unit * gnC;
  var acc = vec2<f32>(0.0, 0.0);
  for (var c = gnLane(); c < gnC; c = c + gnT) {
    let v = affine[first + c];
    acc = acc + vec2<f32>(v * v, v * dHat[first + c]);
  }
  let sums = gnSum2(acc) / f32(gnC);
  let rho = inverseSqrt(sums.x + ${PIXEL_NORM_EPS.toExponential()});
  for (var c = gnLane(); c < gnC; c = c + gnT) {
    result[first + c] = rho * (dHat[first + c] - affine[first + c] * rho * rho * sums.y);
  }
}`);
}

export function registerWebGpuGroupNorm(): void {
  if (tf.getKernel(GROUP_NORM_KERNEL, BACKEND)) return;
  const register = <I, A extends GroupNormAttrs = GroupNormAttrs>(name: string, kernel: (inputs: I, backend: WebGpuBackendLike, attrs: A) => tf.TensorInfo | tf.TensorInfo[]) =>
    registerTypedKernel<I, WebGpuBackendLike, A>(name, BACKEND, kernel);
  const separate: AffineSource = { kind: "separate", tangents: false };

  register<GroupNormInputs>(GROUP_NORM_KERNEL, ({ x, scale, shift }, backend, a) => {
    const g = groupNormGeometry(x.shape, scale.shape, a.groups);
    return backend.runWebGPUProgram(forwardProgram(g, a, separate, x.shape), [x, scale, shift], "float32");
  });
  register<GroupNormTangentInputs>(GROUP_NORM_TANGENT_KERNEL, ({ x, xDot, scale, shift, scaleDot, shiftDot }, backend, a) => {
    const g = groupNormGeometry(x.shape, scale.shape, a.groups);
    const tangents = scaleDot !== undefined && shiftDot !== undefined;
    const inputs = [x, xDot, scale, shift, ...(tangents ? [scaleDot, shiftDot] : [])];
    return backend.runWebGPUProgram(tangentProgram(g, a, { kind: "separate", tangents }, x.shape), inputs, "float32");
  });
  register<GroupNormGradInputs>(GROUP_NORM_GRAD_KERNEL, ({ dy, x, scale, shift }, backend, a) => {
    const g = groupNormGeometry(x.shape, scale.shape, a.groups);
    const inputs = [dy, x, scale, shift];
    return [
      backend.runWebGPUProgram(inputGradientProgram(g, a, separate, x.shape), inputs, "float32"),
      backend.runWebGPUProgram(separateAffineGradientProgram(g, a, scale.shape, "scale"), inputs, "float32"),
      backend.runWebGPUProgram(separateAffineGradientProgram(g, a, shift.shape, "shift"), inputs, "float32"),
    ];
  });

  register<AdaptiveNormInputs, AdaptiveNormAttrs>(ADAPTIVE_NORM_KERNEL, ({ x, affine }, backend, a) => {
    const g = adaptiveNormGeometry(x.shape, affine.shape, a.groups);
    return backend.runWebGPUProgram(forwardProgram(g, a, { kind: "packed", norm: a.norm }, x.shape), [x, affine], "float32");
  });
  register<AdaptiveNormTangentInputs, AdaptiveNormAttrs>(ADAPTIVE_NORM_TANGENT_KERNEL, ({ x, xDot, affine, affineDot }, backend, a) => {
    const g = adaptiveNormGeometry(x.shape, affine.shape, a.groups);
    return backend.runWebGPUProgram(tangentProgram(g, a, { kind: "packed", norm: a.norm }, x.shape), [x, xDot, affine, affineDot], "float32");
  });
  register<AdaptiveNormGradInputs, AdaptiveNormAttrs>(ADAPTIVE_NORM_GRAD_KERNEL, ({ dy, x, affine }, backend, a) => {
    const g = adaptiveNormGeometry(x.shape, affine.shape, a.groups);
    const source: AffineSource = { kind: "packed", norm: a.norm };
    const dx = backend.runWebGPUProgram(inputGradientProgram(g, a, source, x.shape), [dy, x, affine], "float32");
    const dHat = backend.runWebGPUProgram(packedHatGradientProgram(g, a, a.norm, affine.shape), [dy, x, affine], "float32");
    if (a.norm === "adagn") return [dx, dHat]; // d(1 + s)/ds = 1
    const dAffine = backend.runWebGPUProgram(pixelNormGradientProgram(g.batch, g.channels, affine.shape), [affine, dHat], "float32");
    (backend as unknown as { disposeData(id: object): void }).disposeData(dHat.dataId);
    return [dx, dAffine];
  });
}
