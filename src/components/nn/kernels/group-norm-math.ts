/**
 * The fused group norm (../fused-group-norm.ts) on plain arrays: the CPU and WASM backends' kernels, written as
 * loops over one (sample, group) at a time with float64 accumulators. Formulas and notation as in
 * fused-group-norm.ts.
 *
 * The loops are spelled out in each function rather than passed as callbacks: a callback per element is a call
 * V8 cannot inline once several functions share the loop, and on the toy MLP's [512, 32] norms that made these
 * kernels ~10× slower than the WASM ops they replace.
 */
import { PIXEL_NORM_EPS, type AdaptiveNormAffine, type GroupNormGeometry, type NormActivation } from "./group-norm-contract.js";

const sigmoid = (z: number) => 1 / (1 + Math.exp(-z));

/** act(z): SiLU z·σ(z), or z. */
const activate = (z: number, silu: boolean) => (silu ? z * sigmoid(z) : z);

/** act'(z): σ(z)(1 + z(1 − σ(z))) for SiLU, 1 without activation. */
function activationSlope(z: number, silu: boolean): number {
  if (!silu) return 1;
  const s = sigmoid(z);
  return s * (1 + z * (1 - s));
}

/**
 * μ and r = 1/√(σ² + ε) of every (sample, group), at index b·G + group: two passes over the group, as tf.moments.
 * A group is `width` = C/G channels at each of the S positions; its first element is at b·S·C + group·width.
 */
function groupStatistics(x: Float32Array, g: GroupNormGeometry, eps: number): { mean: Float64Array; r: Float64Array } {
  const { batch, positions: S, channels: C, groups: G } = g;
  const width = C / G;
  const count = S * width;
  const mean = new Float64Array(batch * G);
  const r = new Float64Array(batch * G);
  for (let b = 0, k = 0; b < batch; b++) {
    for (let group = 0; group < G; group++, k++) {
      const first = b * S * C + group * width;
      let sum = 0;
      for (let s = 0; s < S; s++) for (let i = first + s * C, end = i + width; i < end; i++) sum += x[i];
      const mu = sum / count;
      let squares = 0;
      for (let s = 0; s < S; s++) {
        for (let i = first + s * C, end = i + width; i < end; i++) {
          const d = x[i] - mu;
          squares += d * d;
        }
      }
      mean[k] = mu;
      r[k] = 1 / Math.sqrt(squares / count + eps);
    }
  }
  return { mean, r };
}

export function groupNormForward(x: Float32Array, scale: Float32Array, shift: Float32Array, g: GroupNormGeometry, eps: number, activation: NormActivation): Float32Array {
  const { batch, positions: S, channels: C, groups: G } = g;
  const width = C / G;
  const silu = activation === "silu";
  const { mean, r } = groupStatistics(x, g, eps);
  const y = new Float32Array(x.length);
  for (let b = 0, k = 0; b < batch; b++) {
    const p = g.perSample ? b * C : 0;
    for (let group = 0; group < G; group++, k++) {
      const mu = mean[k], rk = r[k], first = b * S * C + group * width, c0 = p + group * width;
      for (let s = 0; s < S; s++) {
        for (let j = 0, i = first + s * C; j < width; j++, i++) y[i] = activate((x[i] - mu) * rk * scale[c0 + j] + shift[c0 + j], silu);
      }
    }
  }
  return y;
}

export function groupNormTangent(
  x: Float32Array, xDot: Float32Array, scale: Float32Array, shift: Float32Array, scaleDot: Float32Array | null, shiftDot: Float32Array | null,
  g: GroupNormGeometry, eps: number, activation: NormActivation,
): Float32Array {
  const { batch, positions: S, channels: C, groups: G } = g;
  const width = C / G;
  const count = S * width;
  const silu = activation === "silu";
  const { mean, r } = groupStatistics(x, g, eps);
  const out = new Float32Array(x.length);
  for (let b = 0, k = 0; b < batch; b++) {
    const p = g.perSample ? b * C : 0;
    for (let group = 0; group < G; group++, k++) {
      const mu = mean[k], rk = r[k], first = b * S * C + group * width, c0 = p + group * width;
      // mean_g(ẋ), then mean_g(n·ẋ_c)
      let dotSum = 0;
      for (let s = 0; s < S; s++) for (let i = first + s * C, end = i + width; i < end; i++) dotSum += xDot[i];
      const dotMean = dotSum / count;
      let projection = 0;
      for (let s = 0; s < S; s++) for (let i = first + s * C, end = i + width; i < end; i++) projection += (x[i] - mu) * rk * (xDot[i] - dotMean);
      projection /= count;
      for (let s = 0; s < S; s++) {
        for (let j = 0, i = first + s * C; j < width; j++, i++) {
          const c = c0 + j;
          const n = (x[i] - mu) * rk;
          const nDot = rk * (xDot[i] - dotMean - n * projection);
          const zDot = nDot * scale[c] + (scaleDot ? n * scaleDot[c] + shiftDot![c] : 0);
          out[i] = activationSlope(n * scale[c] + shift[c], silu) * zDot;
        }
      }
    }
  }
  return out;
}

export function groupNormGradient(
  dy: Float32Array, x: Float32Array, scale: Float32Array, shift: Float32Array, g: GroupNormGeometry, eps: number, activation: NormActivation,
): { dx: Float32Array; dScale: Float32Array; dShift: Float32Array } {
  const { batch, positions: S, channels: C, groups: G } = g;
  const width = C / G;
  const count = S * width;
  const silu = activation === "silu";
  const { mean, r } = groupStatistics(x, g, eps);
  const dx = new Float32Array(x.length);
  const dScale = new Float64Array(scale.length);
  const dShift = new Float64Array(shift.length);
  for (let b = 0, k = 0; b < batch; b++) {
    const p = g.perSample ? b * C : 0;
    for (let group = 0; group < G; group++, k++) {
      const mu = mean[k], rk = r[k], first = b * S * C + group * width, c0 = p + group * width;
      let dnSum = 0;
      let dnNSum = 0;
      for (let s = 0; s < S; s++) {
        for (let j = 0, i = first + s * C; j < width; j++, i++) {
          const c = c0 + j;
          const n = (x[i] - mu) * rk;
          const dz = dy[i] * activationSlope(n * scale[c] + shift[c], silu);
          dShift[c] += dz;
          dScale[c] += dz * n;
          const dn = dz * scale[c];
          dx[i] = dn; // kept here until the group's means are known
          dnSum += dn;
          dnNSum += dn * n;
        }
      }
      const dnMean = dnSum / count;
      const dnNMean = dnNSum / count;
      for (let s = 0; s < S; s++) {
        for (let i = first + s * C, end = i + width; i < end; i++) dx[i] = rk * (dx[i] - dnMean - (x[i] - mu) * rk * dnNMean);
      }
    }
  }
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
  for (let h = 0; h < 2 * batch; h++) {
    let squares = 0;
    for (let i = h * channels, end = i + channels; i < end; i++) squares += packed[i] * packed[i];
    rho[h] = 1 / Math.sqrt(squares / channels + PIXEL_NORM_EPS);
  }
  // double: (s·ρ_s, b·ρ_b); AdaGN: (1 + s, b), written as s·1 + 1 and b·1 (exact).
  const double = norm === "double";
  for (let b = 0; b < batch; b++) {
    const [scaleRho, shiftRho, offset] = double ? [rho[2 * b], rho[2 * b + 1], 0] : [1, 1, 1];
    const s = 2 * b * channels;
    const h = s + channels;
    const out = b * channels;
    for (let c = 0; c < channels; c++) {
      scale[out + c] = packed[s + c] * scaleRho + offset;
      shift[out + c] = packed[h + c] * shiftRho;
    }
  }
  return { scale, shift, rho };
}

/**
 * The tangent of adaptiveAffine: for a pixel norm â = a·ρ, â' = ρ·(ȧ − a·ρ²·mean(a·ȧ)); for AdaGN the halves' own
 * tangents. Returned as [B, C] each.
 */
export function adaptiveAffineTangent(packed: Float32Array, packedDot: Float32Array, rho: Float64Array, batch: number, channels: number, norm: AdaptiveNormAffine): { scaleDot: Float32Array; shiftDot: Float32Array } {
  const mapped = applyAffineJacobian(packed, packedDot, rho, channels, norm);
  const scaleDot = new Float32Array(batch * channels);
  const shiftDot = new Float32Array(batch * channels);
  for (let b = 0; b < batch; b++) {
    scaleDot.set(mapped.subarray(2 * b * channels, (2 * b + 1) * channels), b * channels);
    shiftDot.set(mapped.subarray((2 * b + 1) * channels, (2 * b + 2) * channels), b * channels);
  }
  return { scaleDot, shiftDot };
}

/** The gradient of adaptiveAffine, [B, 2C]: the pixel norm's Jacobian is symmetric, so the same map as the tangent's. */
export function adaptiveAffineGradient(packed: Float32Array, dScale: Float32Array, dShift: Float32Array, rho: Float64Array, batch: number, channels: number, norm: AdaptiveNormAffine): Float32Array {
  const v = new Float32Array(2 * batch * channels);
  for (let b = 0; b < batch; b++) {
    v.set(dScale.subarray(b * channels, (b + 1) * channels), 2 * b * channels);
    v.set(dShift.subarray(b * channels, (b + 1) * channels), (2 * b + 1) * channels);
  }
  return applyAffineJacobian(packed, v, rho, channels, norm);
}

/**
 * adaptiveAffine's Jacobian (symmetric, one half at a time) applied to v, both in the packed [B, 2C] layout:
 * ρ·(v − a·ρ²·mean(a·v)) for the double norm, v itself for AdaGN.
 */
function applyAffineJacobian(packed: Float32Array, v: Float32Array, rho: Float64Array, channels: number, norm: AdaptiveNormAffine): Float32Array {
  if (norm !== "double") return v.slice();
  const out = new Float32Array(v.length);
  for (let h = 0; h < rho.length; h++) {
    const r = rho[h];
    const first = h * channels;
    let m = 0;
    for (let i = first; i < first + channels; i++) m += packed[i] * v[i];
    m /= channels;
    for (let i = first; i < first + channels; i++) out[i] = r * (v[i] - packed[i] * r * r * m);
  }
  return out;
}
