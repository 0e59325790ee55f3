/**
 * The fused group norm (../fused-group-norm.ts) on plain arrays: the CPU backend's kernels, written as loops over
 * one (sample, group) at a time with float64 accumulators. Formulas and notation as in fused-group-norm.ts.
 */
import { PIXEL_NORM_EPS, type AdaptiveNormAffine, type GroupNormGeometry, type NormActivation } from "./group-norm-contract.js";

type Activation = { f: (z: number) => number; df: (z: number) => number };

const ACTIVATIONS: Record<NormActivation, Activation> = {
  none: { f: (z) => z, df: () => 1 },
  silu: {
    f: (z) => z / (1 + Math.exp(-z)),
    df: (z) => {
      const s = 1 / (1 + Math.exp(-z));
      return s * (1 + z * (1 - s));
    },
  },
};

/**
 * Calls visit once per (sample, group) with the index of its first element, its mean μ and r = 1/√(σ² + ε) (two
 * passes, as tf.moments), and p, the offset of the sample's scale and shift (0 when they are shared).
 */
function forEachGroup(
  x: Float32Array, g: GroupNormGeometry, eps: number,
  visit: (first: number, mean: number, r: number, p: number) => void,
): void {
  const { batch, positions: S, channels: C, groups: G } = g;
  const width = C / G;
  const count = S * width;
  for (let b = 0; b < batch; b++) {
    for (let group = 0; group < G; group++) {
      const first = b * S * C + group * width;
      let sum = 0;
      for (let s = 0; s < S; s++) for (let j = 0, i = first + s * C; j < width; j++, i++) sum += x[i];
      const mean = sum / count;
      let squares = 0;
      for (let s = 0; s < S; s++) {
        for (let j = 0, i = first + s * C; j < width; j++, i++) {
          const d = x[i] - mean;
          squares += d * d;
        }
      }
      visit(first, mean, 1 / Math.sqrt(squares / count + eps), g.perSample ? b * C : 0);
    }
  }
}

const groupSize = (g: GroupNormGeometry) => g.positions * (g.channels / g.groups);

/** Visits a group's elements: i its flat index, c its channel. */
function forEachElement(g: GroupNormGeometry, first: number, visit: (i: number, c: number) => void): void {
  const width = g.channels / g.groups;
  const firstChannel = first % g.channels;
  for (let s = 0; s < g.positions; s++) for (let j = 0, i = first + s * g.channels; j < width; j++, i++) visit(i, firstChannel + j);
}

export function groupNormForward(x: Float32Array, scale: Float32Array, shift: Float32Array, g: GroupNormGeometry, eps: number, activation: NormActivation): Float32Array {
  const y = new Float32Array(x.length);
  const act = ACTIVATIONS[activation].f;
  forEachGroup(x, g, eps, (first, mean, r, p) => {
    forEachElement(g, first, (i, c) => {
      y[i] = act((x[i] - mean) * r * scale[p + c] + shift[p + c]);
    });
  });
  return y;
}

export function groupNormTangent(
  x: Float32Array, xDot: Float32Array, scale: Float32Array, shift: Float32Array, scaleDot: Float32Array | null, shiftDot: Float32Array | null,
  g: GroupNormGeometry, eps: number, activation: NormActivation,
): Float32Array {
  const out = new Float32Array(x.length);
  const dAct = ACTIVATIONS[activation].df;
  const count = groupSize(g);
  forEachGroup(x, g, eps, (first, mean, r, p) => {
    let dotSum = 0;
    forEachElement(g, first, (i) => (dotSum += xDot[i]));
    const dotMean = dotSum / count;
    let projection = 0;
    forEachElement(g, first, (i) => (projection += (x[i] - mean) * r * (xDot[i] - dotMean)));
    projection /= count;
    forEachElement(g, first, (i, c) => {
      const n = (x[i] - mean) * r;
      const nDot = r * (xDot[i] - dotMean - n * projection);
      const zDot = nDot * scale[p + c] + (scaleDot ? n * scaleDot[p + c] + shiftDot![p + c] : 0);
      out[i] = dAct(n * scale[p + c] + shift[p + c]) * zDot;
    });
  });
  return out;
}

export function groupNormGradient(
  dy: Float32Array, x: Float32Array, scale: Float32Array, shift: Float32Array, g: GroupNormGeometry, eps: number, activation: NormActivation,
): { dx: Float32Array; dScale: Float32Array; dShift: Float32Array } {
  const dx = new Float32Array(x.length);
  const dScale = new Float64Array(scale.length);
  const dShift = new Float64Array(shift.length);
  const dAct = ACTIVATIONS[activation].df;
  const count = groupSize(g);
  forEachGroup(x, g, eps, (first, mean, r, p) => {
    let dnSum = 0;
    let dnNSum = 0;
    forEachElement(g, first, (i, c) => {
      const n = (x[i] - mean) * r;
      const dz = dy[i] * dAct(n * scale[p + c] + shift[p + c]);
      dShift[p + c] += dz;
      dScale[p + c] += dz * n;
      const dn = dz * scale[p + c];
      dx[i] = dn; // kept here until the group's means are known
      dnSum += dn;
      dnNSum += dn * n;
    });
    const dnMean = dnSum / count;
    const dnNMean = dnNSum / count;
    forEachElement(g, first, (i) => {
      const n = (x[i] - mean) * r;
      dx[i] = r * (dx[i] - dnMean - n * dnNMean);
    });
  });
  return { dx, dScale: Float32Array.from(dScale), dShift: Float32Array.from(dShift) };
}

/**
 * The adaptive norm's scale and shift ([B, C] each) from the packed [B, 2C] output of its dense layer, and ρ, the
 * pixel norms' 1/√(mean a² + ε) per sample and half ([B, 2]; unused for "adagn").
 */
export function adaptiveAffine(packed: Float32Array, batch: number, channels: number, norm: AdaptiveNormAffine): { scale: Float32Array; shift: Float32Array; rho: Float64Array } {
  const scale = new Float32Array(batch * channels);
  const shift = new Float32Array(batch * channels);
  const rho = new Float64Array(2 * batch);
  forEachHalf(batch, channels, (b, half, first) => {
    let squares = 0;
    for (let c = 0; c < channels; c++) squares += packed[first + c] * packed[first + c];
    rho[2 * b + half] = 1 / Math.sqrt(squares / channels + PIXEL_NORM_EPS);
  });
  for (let b = 0; b < batch; b++) {
    for (let c = 0; c < channels; c++) {
      const s = packed[2 * b * channels + c];
      const h = packed[(2 * b + 1) * channels + c];
      scale[b * channels + c] = norm === "double" ? s * rho[2 * b] : 1 + s;
      shift[b * channels + c] = norm === "double" ? h * rho[2 * b + 1] : h;
    }
  }
  return { scale, shift, rho };
}

/**
 * The tangent of adaptiveAffine: for a pixel norm â = a·ρ, â' = ρ·(ȧ − a·ρ²·mean(a·ȧ)); for AdaGN the halves' own
 * tangents. Returned as [B, C] each.
 */
export function adaptiveAffineTangent(packed: Float32Array, packedDot: Float32Array, rho: Float64Array, batch: number, channels: number, norm: AdaptiveNormAffine): { scaleDot: Float32Array; shiftDot: Float32Array } {
  const halves = [new Float32Array(batch * channels), new Float32Array(batch * channels)];
  applyAffineJacobian(packed, rho, batch, channels, norm, (b, half, c) => packedDot[(2 * b + half) * channels + c], (b, half, c, value) => (halves[half][b * channels + c] = value));
  return { scaleDot: halves[0], shiftDot: halves[1] };
}

/** The gradient of adaptiveAffine, [B, 2C]: the pixel norm's Jacobian is symmetric, so the same map as the tangent's. */
export function adaptiveAffineGradient(packed: Float32Array, dScale: Float32Array, dShift: Float32Array, rho: Float64Array, batch: number, channels: number, norm: AdaptiveNormAffine): Float32Array {
  const out = new Float32Array(2 * batch * channels);
  const halves = [dScale, dShift];
  applyAffineJacobian(packed, rho, batch, channels, norm, (b, half, c) => halves[half][b * channels + c], (b, half, c, value) => (out[(2 * b + half) * channels + c] = value));
  return out;
}

/**
 * adaptiveAffine's Jacobian (symmetric, one half at a time) applied to v: ρ·(v − a·ρ²·mean(a·v)) for the double
 * norm, v itself for AdaGN. `read` and `write` give v and the result at (sample, half, channel) in their layouts.
 */
function applyAffineJacobian(
  packed: Float32Array, rho: Float64Array, batch: number, channels: number, norm: AdaptiveNormAffine,
  read: (b: number, half: number, c: number) => number, write: (b: number, half: number, c: number, value: number) => void,
): void {
  forEachHalf(batch, channels, (b, half, first) => {
    const r = rho[2 * b + half];
    let m = 0;
    for (let c = 0; c < channels; c++) m += packed[first + c] * read(b, half, c);
    m /= channels;
    for (let c = 0; c < channels; c++) write(b, half, c, norm === "double" ? r * (read(b, half, c) - packed[first + c] * r * r * m) : read(b, half, c));
  });
}

/** Visits the packed [B, 2C] vector's halves: sample b, half 0 (scale) or 1 (shift), index of its first entry. */
function forEachHalf(batch: number, channels: number, visit: (b: number, half: number, first: number) => void): void {
  for (let b = 0; b < batch; b++) for (let half = 0; half < 2; half++) visit(b, half, (2 * b + half) * channels);
}
