/**
 * The standard normal distribution to full double precision: erfc, the CDF Φ, the density φ and the inverse
 * CDF Φ⁻¹. The exact sliced-W₂ metric (sample-metrics.ts) integrates Gaussian mixtures between nearby
 * quantiles, where differences of Φ must be right to ~1e-15; the usual 1e-7 approximations are not enough.
 * Φ⁻¹ maps quasi-random uniforms to normal noise (quasi-random.ts).
 */

const SQRT_PI = Math.sqrt(Math.PI);
const SQRT_2PI = Math.sqrt(2 * Math.PI);

/**
 * erfc(x) for x ≥ 0. Below 1.5: erf from the series e^{−x²}·2/√π·Σ 2ⁿx^{2n+1}/(1·3···(2n+1)), whose terms
 * are all positive (no cancellation), then erfc = 1 − erf (absolute error ~1e-16, so relative ≤ ~3e-15 since
 * erfc(1.5) ≈ 0.034). From 1.5 on: the continued fraction erfc(x) = e^{−x²}/√π · 1/(x + (1/2)/(x + 1/(x +
 * (3/2)/(x + …)))), evaluated backwards; 120 terms reach double precision at 1.5 (measured), 50 from 2.5 on.
 */
function erfcNonNegative(x: number): number {
  if (x < 1.5) {
    let term = x;
    let sum = x;
    for (let n = 1; n < 200 && term > 1e-17 * sum; n++) {
      term *= (2 * x * x) / (2 * n + 1);
      sum += term;
    }
    return 1 - ((2 / SQRT_PI) * Math.exp(-x * x)) * sum;
  }
  let fraction = x;
  for (let k = x < 2.5 ? 120 : 50; k >= 1; k--) fraction = x + k / 2 / fraction;
  return Math.exp(-x * x) / SQRT_PI / fraction;
}

/** Complementary error function erfc(x) = 1 − erf(x), accurate to ~1e-15 relative in the tails. */
export function erfc(x: number): number {
  if (Number.isNaN(x)) return Number.NaN;
  return x >= 0 ? erfcNonNegative(x) : 2 - erfcNonNegative(-x);
}

/** Standard normal density φ(z). */
export function normalPdf(z: number): number {
  return Math.exp(-0.5 * z * z) / SQRT_2PI;
}

/** Standard normal CDF Φ(z), with full relative precision in the lower tail. */
export function normalCdf(z: number): number {
  return 0.5 * erfc(-z / Math.SQRT2);
}

/** P(a < Z < b) for a standard normal Z, computed from whichever tail keeps its precision. */
export function normalMass(a: number, b: number): number {
  return a >= 0 ? normalCdf(-a) - normalCdf(-b) : normalCdf(b) - normalCdf(a);
}

// Acklam's rational approximation of Φ⁻¹ (relative error < 1.2e-9), refined below by one Halley step.
const A = [-3.969683028665376e1, 2.209460984245205e2, -2.759285104469687e2, 1.38357751867269e2, -3.066479806614716e1, 2.506628277459239];
const B = [-5.447609879822406e1, 1.615858368580409e2, -1.556989798598866e2, 6.680131188771972e1, -1.328068155288572e1];
const C = [-7.784894002430293e-3, -3.223964580411365e-1, -2.400758277161838, -2.549732539343734, 4.374664141464968, 2.938163982698783];
const D = [7.784695709041462e-3, 3.224671290700398e-1, 2.445134137142996, 3.754408661907416];
const P_LOW = 0.02425;

function acklam(p: number): number {
  if (p < P_LOW) {
    const q = Math.sqrt(-2 * Math.log(p));
    return (((((C[0] * q + C[1]) * q + C[2]) * q + C[3]) * q + C[4]) * q + C[5]) / ((((D[0] * q + D[1]) * q + D[2]) * q + D[3]) * q + 1);
  }
  if (p > 1 - P_LOW) return -acklam(1 - p);
  const q = p - 0.5;
  const r = q * q;
  return ((((((A[0] * r + A[1]) * r + A[2]) * r + A[3]) * r + A[4]) * r + A[5]) * q) / (((((B[0] * r + B[1]) * r + B[2]) * r + B[3]) * r + B[4]) * r + 1);
}

/**
 * Inverse standard normal CDF Φ⁻¹(p) for p ∈ (0, 1); −∞ at 0 and +∞ at 1. Acklam's approximation plus one
 * Halley step on Φ(z) − p gives full double precision. For p > ½ it uses the symmetry Φ⁻¹(p) = −Φ⁻¹(1 − p),
 * so upper-tail levels are as exact as 1 − p is.
 */
export function normalQuantile(p: number): number {
  if (!(p >= 0 && p <= 1)) return Number.NaN;
  if (p === 0) return Number.NEGATIVE_INFINITY;
  if (p === 1) return Number.POSITIVE_INFINITY;
  if (p > 0.5) return -normalQuantile(1 - p);
  const z = acklam(p);
  const e = normalCdf(z) - p;
  const u = e * SQRT_2PI * Math.exp(0.5 * z * z);
  return z - u / (1 + 0.5 * z * u);
}
