/**
 * The fused group norm's kernels as WGSL programs for TF.js's WebGPU backend: one workgroup per (sample, group)
 * reduces the group's statistics in workgroup memory and writes the group's outputs, so the value is one
 * dispatch, the tangent one, and the gradient three (dx, then the scale's and the shift's gradients, one
 * workgroup per entry). The image sizes are compiled into each shader (and its cache key). Formulas and notation
 * as in ../fused-group-norm.ts; the same arithmetic on arrays is group-norm-math.ts.
 */
import * as tf from "@tensorflow/tfjs";
import { GROUP_NORM_GRAD_KERNEL, GROUP_NORM_KERNEL, GROUP_NORM_TANGENT_KERNEL, groupNormGeometry, registerGroupNormKernel, type GroupNormAttrs, type GroupNormGradInputs, type GroupNormInputs, type GroupNormTangentInputs, type GroupNormGeometry } from "./group-norm-contract.js";

/** The part of tfjs-backend-webgpu's WebGPUProgram interface these programs fill in. */
interface WebGpuProgram {
  variableNames: string[];
  outputShape: number[];
  shaderKey: string;
  dispatchLayout: { x: number[] };
  dispatch: [number, number, number];
  workgroupSize: [number, number, number];
  getUserCode(): string;
}

interface WebGpuBackendLike {
  runWebGPUProgram(program: WebGpuProgram, inputs: tf.TensorInfo[], outputDtype: tf.DataType): tf.TensorInfo;
}

const BACKEND = "webgpu";
const THREADS = 64;
/** WebGPU guarantees 65,535 workgroups per dispatch dimension; these programs use one dimension. */
const MAX_WORKGROUPS = 65535;

/**
 * Shared WGSL: the geometry as constants, act/dAct, a workgroup sum of two values at once, and the group's
 * statistics. Every thread of a workgroup calls sum2 (it holds barriers), so it is called from uniform control flow.
 */
function prelude(g: GroupNormGeometry, eps: number, activation: GroupNormAttrs["activation"]): string {
  const width = g.channels / g.groups;
  return `
const gnS : i32 = ${g.positions};
const gnC : i32 = ${g.channels};
const gnG : i32 = ${g.groups};
const gnW : i32 = ${width};
const gnCount : i32 = ${g.positions * width};
const gnEps : f32 = ${eps.toExponential()};
const gnPerSample : bool = ${g.perSample};
const gnT : i32 = ${THREADS};

fn gnAct(z : f32) -> f32 { ${activation === "silu" ? "return z / (1.0 + exp(-z));" : "return z;"} }
fn gnDAct(z : f32) -> f32 { ${activation === "silu" ? "let s = 1.0 / (1.0 + exp(-z)); return s * (1.0 + z * (1.0 - s));" : "return 1.0;"} }

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
}

// flat index of the k-th element of the group whose first element is at 'first'
fn gnAt(first : i32, k : i32) -> i32 { return first + (k / gnW) * gnC + k % gnW; }
fn gnChannel(first : i32, k : i32) -> i32 { return first % gnC + k % gnW; }
// the scale's (and shift's) index for sample b, channel c
fn gnParam(b : i32, c : i32) -> i32 { if (gnPerSample) { return b * gnC + c; } return c; }

// mean and r = 1/sqrt(var + eps) of the group at 'first', two passes as tf.moments
fn gnStats(first : i32) -> vec2<f32> {
  var acc = 0.0;
  for (var k = i32(localId.x); k < gnCount; k = k + gnT) { acc = acc + x[gnAt(first, k)]; }
  let mean = gnSum2(vec2<f32>(acc, 0.0)).x / f32(gnCount);
  var sq = 0.0;
  for (var k = i32(localId.x); k < gnCount; k = k + gnT) { let d = x[gnAt(first, k)] - mean; sq = sq + d * d; }
  let variance = gnSum2(vec2<f32>(sq, 0.0)).x / f32(gnCount);
  return vec2<f32>(mean, inverseSqrt(variance + gnEps));
}
`;
}

function program(name: string, key: string, variableNames: string[], outputShape: number[], workgroups: number, code: string): WebGpuProgram {
  if (workgroups > MAX_WORKGROUPS) throw new RangeError(`fused group norm: ${workgroups} workgroups exceed one dispatch dimension (${MAX_WORKGROUPS})`);
  return {
    variableNames,
    outputShape,
    shaderKey: `scm_group_norm_${name}_${key}`,
    dispatchLayout: { x: outputShape.map((_, i) => i) },
    dispatch: [workgroups, 1, 1],
    workgroupSize: [THREADS, 1, 1],
    getUserCode: () => code,
  };
}

const keyOf = (g: GroupNormGeometry, a: GroupNormAttrs) => `${g.batch}_${g.positions}_${g.channels}_${g.groups}_${g.perSample}_${a.eps}_${a.activation}`;

/** The (sample, group) a workgroup of a per-group program works on, and that group's first element. */
const GROUP_HEADER = `
  let wg = i32(workgroupId.x);
  let b = wg / gnG;
  let first = b * gnS * gnC + (wg % gnG) * gnW;
  let ms = gnStats(first);
  let mean = ms.x;
  let r = ms.y;
`;

function forwardProgram(g: GroupNormGeometry, a: GroupNormAttrs, shape: number[]): WebGpuProgram {
  return program("forward", keyOf(g, a), ["x", "scale", "shift"], shape, g.batch * g.groups, `${prelude(g, a.eps, a.activation)}
fn main(index : i32) {
  _ = uniforms.NAN; // TF.js binds a uniform buffer to every program: a static use keeps it in the layout
  ${GROUP_HEADER}
  for (var k = i32(localId.x); k < gnCount; k = k + gnT) {
    let i = gnAt(first, k);
    let p = gnParam(b, gnChannel(first, k));
    result[i] = gnAct((x[i] - mean) * r * scale[p] + shift[p]);
  }
}`);
}

function tangentProgram(g: GroupNormGeometry, a: GroupNormAttrs, shape: number[], affineTangent: boolean): WebGpuProgram {
  const names = ["x", "xDot", "scale", "shift", ...(affineTangent ? ["scaleDot", "shiftDot"] : [])];
  return program(`tangent${affineTangent ? "_affine" : ""}`, keyOf(g, a), names, shape, g.batch * g.groups, `${prelude(g, a.eps, a.activation)}
fn main(index : i32) {
  _ = uniforms.NAN; // TF.js binds a uniform buffer to every program: a static use keeps it in the layout
  ${GROUP_HEADER}
  var acc = 0.0;
  for (var k = i32(localId.x); k < gnCount; k = k + gnT) { acc = acc + xDot[gnAt(first, k)]; }
  let dotMean = gnSum2(vec2<f32>(acc, 0.0)).x / f32(gnCount);
  var proj = 0.0;
  for (var k = i32(localId.x); k < gnCount; k = k + gnT) { let i = gnAt(first, k); proj = proj + (x[i] - mean) * r * (xDot[i] - dotMean); }
  let projection = gnSum2(vec2<f32>(proj, 0.0)).x / f32(gnCount);
  for (var k = i32(localId.x); k < gnCount; k = k + gnT) {
    let i = gnAt(first, k);
    let p = gnParam(b, gnChannel(first, k));
    let n = (x[i] - mean) * r;
    let nDot = r * (xDot[i] - dotMean - n * projection);
    let zDot = nDot * scale[p]${affineTangent ? " + n * scaleDot[p] + shiftDot[p]" : ""};
    result[i] = gnDAct(n * scale[p] + shift[p]) * zDot;
  }
}`);
}

function inputGradientProgram(g: GroupNormGeometry, a: GroupNormAttrs, shape: number[]): WebGpuProgram {
  return program("dx", keyOf(g, a), ["dy", "x", "scale", "shift"], shape, g.batch * g.groups, `${prelude(g, a.eps, a.activation)}
fn gnDn(i : i32, p : i32, n : f32) -> f32 { return dy[i] * gnDAct(n * scale[p] + shift[p]) * scale[p]; }
fn main(index : i32) {
  _ = uniforms.NAN; // TF.js binds a uniform buffer to every program: a static use keeps it in the layout
  ${GROUP_HEADER}
  var acc = vec2<f32>(0.0, 0.0);
  for (var k = i32(localId.x); k < gnCount; k = k + gnT) {
    let i = gnAt(first, k);
    let n = (x[i] - mean) * r;
    let dn = gnDn(i, gnParam(b, gnChannel(first, k)), n);
    acc = acc + vec2<f32>(dn, dn * n);
  }
  let means = gnSum2(acc) / f32(gnCount);
  for (var k = i32(localId.x); k < gnCount; k = k + gnT) {
    let i = gnAt(first, k);
    let n = (x[i] - mean) * r;
    result[i] = r * (gnDn(i, gnParam(b, gnChannel(first, k)), n) - means.x - n * means.y);
  }
}`);
}

/** The gradient of the scale (which = "scale": Σ dz·n) or of the shift (Σ dz): one workgroup per entry. */
function affineGradientProgram(g: GroupNormGeometry, a: GroupNormAttrs, shape: number[], which: "scale" | "shift"): WebGpuProgram {
  const entries = shape.reduce((p, q) => p * q, 1);
  return program(`d${which}`, keyOf(g, a), ["dy", "x", "scale", "shift"], shape, entries, `${prelude(g, a.eps, a.activation)}
fn main(index : i32) {
  _ = uniforms.NAN; // TF.js binds a uniform buffer to every program: a static use keeps it in the layout
  let e = i32(workgroupId.x);
  let c = e % gnC;
  var total = 0.0;
  ${
    // Barriers (in gnStats and gnSum2) need uniform control flow: a loop over a constant batch, or no loop.
    g.perSample ? "{ let b = e / gnC;" : `for (var b = 0; b < ${g.batch}; b = b + 1) {`
  }
    let ms = gnStats(b * gnS * gnC + (c / gnW) * gnW);
    let p = gnParam(b, c);
    var acc = 0.0;
    for (var s = i32(localId.x); s < gnS; s = s + gnT) {
      let i = (b * gnS + s) * gnC + c;
      let n = (x[i] - ms.x) * ms.y;
      let dz = dy[i] * gnDAct(n * scale[p] + shift[p]);
      acc = acc + ${which === "scale" ? "dz * n" : "dz"};
    }
    total = total + gnSum2(vec2<f32>(acc, 0.0)).x;
  }
  if (localId.x == 0u) { result[e] = total; }
}`);
}

export function registerWebGpuGroupNorm(): void {
  if (tf.getKernel(GROUP_NORM_KERNEL, BACKEND)) return;
  registerGroupNormKernel<GroupNormInputs, WebGpuBackendLike>(GROUP_NORM_KERNEL, BACKEND, ({ x, scale, shift }, backend, a) => {
    const g = groupNormGeometry(x.shape, scale.shape, a.groups);
    return backend.runWebGPUProgram(forwardProgram(g, a, x.shape), [x, scale, shift], "float32");
  });
  registerGroupNormKernel<GroupNormTangentInputs, WebGpuBackendLike>(GROUP_NORM_TANGENT_KERNEL, BACKEND, ({ x, xDot, scale, shift, scaleDot, shiftDot }, backend, a) => {
    const g = groupNormGeometry(x.shape, scale.shape, a.groups);
    const affineTangent = scaleDot !== undefined && shiftDot !== undefined;
    const inputs = [x, xDot, scale, shift, ...(affineTangent ? [scaleDot, shiftDot] : [])];
    return backend.runWebGPUProgram(tangentProgram(g, a, x.shape, affineTangent), inputs, "float32");
  });
  registerGroupNormKernel<GroupNormGradInputs, WebGpuBackendLike>(GROUP_NORM_GRAD_KERNEL, BACKEND, ({ dy, x, scale, shift }, backend, a) => {
    const g = groupNormGeometry(x.shape, scale.shape, a.groups);
    const inputs = [dy, x, scale, shift];
    return [
      backend.runWebGPUProgram(inputGradientProgram(g, a, x.shape), inputs, "float32"),
      backend.runWebGPUProgram(affineGradientProgram(g, a, scale.shape, "scale"), inputs, "float32"),
      backend.runWebGPUProgram(affineGradientProgram(g, a, shift.shape, "shift"), inputs, "float32"),
    ];
  });
}
