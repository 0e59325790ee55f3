/**
 * TrigFlow (Lu & Song 2024, arXiv 2410.11081 §3, App. B): the noise schedule, the probability-flow ODE,
 * the consistency function, and conversions to the other common parameterizations.
 *
 * Conventions used everywhere in sCM Lab:
 * - x0 is data, z ~ N(0, σd² I) is noise (its std is σd, not 1), t ∈ [0, π/2] is TrigFlow time in radians.
 * - F(u, t) is the raw network output, evaluated at the scaled input u = x_t / σd.
 * - σd·F is a velocity: the PF-ODE is dx_t/dt = σd·F(x_t/σd, t).
 *
 * Every quantity the model predicts is linear in (x_t, F) at fixed t, so conversions are pairs of scalar
 * coefficients. The same coefficients serve plain arrays (pages) and tensors (training).
 */

/** Data standard deviation for pixels in [−1, 1], the EDM convention (§3). */
export const SIGMA_D = 0.5;
/** EDM's largest noise level σ_max = 80 (App. G.2). */
export const SIGMA_MAX = 80;
/** Sampling starts at t_max = arctan(σ_max/σd) ≈ 1.56455 for σd = 0.5, not at π/2 (App. G.2). */
export const T_MAX = Math.atan(SIGMA_MAX / SIGMA_D);
/** The paper's fixed intermediate time for 2-step sampling: 1.1 rad, i.e. EDM σ ≈ 0.98 (App. G.2). */
export const T_MID = 1.1;

/** x_t = cos t·x0 + sin t·z, elementwise (Eq. 3). */
export function diffuse(x0: ArrayLike<number>, z: ArrayLike<number>, t: number): Float64Array {
  const c = Math.cos(t);
  const s = Math.sin(t);
  const out = new Float64Array(x0.length);
  for (let i = 0; i < out.length; i++) out[i] = c * x0[i] + s * z[i];
  return out;
}

/** The training target v_t = dx_t/dt = cos t·z − sin t·x0 for fixed (x0, z) (Eq. 4). */
export function conditionalVelocity(x0: ArrayLike<number>, z: ArrayLike<number>, t: number): Float64Array {
  const c = Math.cos(t);
  const s = Math.sin(t);
  const out = new Float64Array(x0.length);
  for (let i = 0; i < out.length; i++) out[i] = c * z[i] - s * x0[i];
  return out;
}

/** A quantity a·x_t + b·F, written by its two coefficients at a fixed t. */
export interface LinearInXF {
  /** coefficient of x_t */
  cx: number;
  /** coefficient of F(x_t/σd, t) */
  cF: number;
}

/**
 * What can be predicted from (x_t, F), as linear combinations (App. B.1–B.2):
 * - "x0":    the denoiser / consistency function D = f = cos t·x_t − σd sin t·F  (Eq. 5 and Eq. 23)
 * - "noise": the noise with std σd, ẑ = sin t·x_t + σd cos t·F  (App. B.1)
 * - "eps":   unit-variance noise ε̂ = ẑ/σd, what an ε-prediction network outputs
 * - "v":     the TrigFlow velocity / v-prediction σd·F, whose target is cos t·z − sin t·x0 (Eq. 4)
 * - "flowVelocity": the rectified-flow / flow-matching velocity ε̂ − x̂0 for x_s = (1 − s)x0 + s·ε (App. B.2)
 */
export type PredictionKind = "x0" | "noise" | "eps" | "v" | "flowVelocity";

export function predictionCoefficients(kind: PredictionKind, t: number, sigmaD = SIGMA_D): LinearInXF {
  const c = Math.cos(t);
  const s = Math.sin(t);
  switch (kind) {
    case "x0":
      return { cx: c, cF: -sigmaD * s };
    case "noise":
      return { cx: s, cF: sigmaD * c };
    case "eps":
      return { cx: s / sigmaD, cF: c };
    case "v":
      return { cx: 0, cF: sigmaD };
    case "flowVelocity":
      // ε̂ − x̂0 = (s/σd − c)·x_t + (c + σd s)·F
      return { cx: s / sigmaD - c, cF: c + sigmaD * s };
  }
}

/** Evaluate a prediction of the given kind from x_t and F (elementwise). */
export function predictFromF(
  kind: PredictionKind,
  xt: ArrayLike<number>,
  F: ArrayLike<number>,
  t: number,
  sigmaD = SIGMA_D,
): Float64Array {
  const { cx, cF } = predictionCoefficients(kind, t, sigmaD);
  const out = new Float64Array(xt.length);
  for (let i = 0; i < out.length; i++) out[i] = cx * xt[i] + cF * F[i];
  return out;
}

/**
 * Invert predictFromF: the F that yields the given prediction at x_t. Undefined where the F-coefficient
 * vanishes (e.g. "x0" at t = 0, where the prediction no longer depends on F because f(x, 0) = x).
 */
export function fFromPrediction(
  kind: PredictionKind,
  xt: ArrayLike<number>,
  prediction: ArrayLike<number>,
  t: number,
  sigmaD = SIGMA_D,
): Float64Array {
  const { cx, cF } = predictionCoefficients(kind, t, sigmaD);
  if (cF === 0) throw new RangeError(`a "${kind}" prediction at t = ${t} does not determine F`);
  const out = new Float64Array(xt.length);
  for (let i = 0; i < out.length; i++) out[i] = (prediction[i] - cx * xt[i]) / cF;
  return out;
}

/**
 * The consistency function f(x_t, t) = cos t·x_t − σd sin t·F(x_t/σd, t) (Eq. 5): one exact first-order
 * step of the PF-ODE from t to 0. f(x, 0) = x holds by construction.
 */
export function consistencyFunction(
  xt: ArrayLike<number>,
  F: ArrayLike<number>,
  t: number,
  sigmaD = SIGMA_D,
): Float64Array {
  return predictFromF("x0", xt, F, t, sigmaD);
}

/** EDM noise level σ = σd·tan t (Eq. 30). */
export function sigmaFromT(t: number, sigmaD = SIGMA_D): number {
  return sigmaD * Math.tan(t);
}

/** TrigFlow time t = arctan(σ/σd) (Eq. 30). */
export function tFromSigma(sigma: number, sigmaD = SIGMA_D): number {
  return Math.atan(sigma / sigmaD);
}

/** EDM inputs x_σ = x0 + σ·ε become TrigFlow inputs x_t = cos t·x_σ (Eq. 30). */
export function trigflowInputScaleFromEdm(t: number): number {
  return Math.cos(t);
}

/**
 * TrigFlow's F equals minus EDM's raw network output F_EDM at matched inputs (App. B.2): EDM writes
 * D = c_skip·x_σ + c_out·F_EDM with c_out = +σσd/√(σ² + σd²), TrigFlow has c_out = −σd sin t.
 */
export function fFromEdmRawOutput(edmRaw: number): number {
  return -edmRaw;
}

/**
 * Flow-matching time s of x_s = (1 − s)·x0 + s·ε (ε ~ N(0, I)) at the same signal-to-noise ratio as t.
 * From Eq. 29 with α = 1 − s, σ = s: tan t = s/(σd(1 − s)), hence s = σd sin t/(cos t + σd sin t).
 */
export function flowTimeFromT(t: number, sigmaD = SIGMA_D): number {
  const s = Math.sin(t);
  return (sigmaD * s) / (Math.cos(t) + sigmaD * s);
}

/** Inverse of flowTimeFromT: t = arctan(s/(σd(1 − s))) (Eq. 29). */
export function tFromFlowTime(s: number, sigmaD = SIGMA_D): number {
  return Math.atan2(s, sigmaD * (1 - s));
}

/** x_t = σd·x_s / √((1 − s)²σd² + s²) maps a flow-matching state to TrigFlow's (Eq. 29). */
export function trigflowInputScaleFromFlow(s: number, sigmaD = SIGMA_D): number {
  return sigmaD / Math.hypot((1 - s) * sigmaD, s);
}

/** Signal-to-noise ratio SNR(t) = 1/tan²t, the same for every σd (Eq. 34). */
export function snr(t: number): number {
  const tan = Math.tan(t);
  return 1 / (tan * tan);
}
