import { test } from "node:test";
import assert from "node:assert/strict";
import {
  SIGMA_D, T_MAX, T_MID, diffuse, conditionalVelocity, consistencyFunction, predictFromF, fFromPrediction,
  sigmaFromT, tFromSigma, flowTimeFromT, tFromFlowTime, trigflowInputScaleFromFlow, trigflowInputScaleFromEdm,
  fFromEdmRawOutput, snr, type PredictionKind,
} from "../src/components/trigflow/trigflow.ts";
import { createRng, normalArray } from "../src/components/math/rng.ts";
import { assertClose } from "./helpers.ts";

// Double precision round-off on O(1) quantities is ~1e-16; 1e-12 leaves room for a few operations.
const EXACT = 1e-12;
const rng = createRng(1);
const x0 = normalArray(rng, 6, 0.7);
const z = normalArray(rng, 6, SIGMA_D);

test("x_t equals the data at t = 0 and the noise at t = π/2 (Eq. 3)", () => {
  assertClose(diffuse(x0, z, 0), x0, 0);
  // cos(π/2) is 6e-17 in floating point, not 0.
  assertClose(diffuse(x0, z, Math.PI / 2), z, 1e-15);
});

test("v_t = cos t·z − sin t·x0 is the time derivative of x_t (Eq. 4)", () => {
  for (const t of [0.1, 0.7, 1.4]) {
    const h = 1e-5; // central difference: truncation h² ~ 1e-10, round-off 1e-16/h ~ 1e-11
    const fd = diffuse(x0, z, t + h).map((v, i) => (v - diffuse(x0, z, t - h)[i]) / (2 * h));
    assertClose(conditionalVelocity(x0, z, t), fd, 1e-8, `t=${t}`);
  }
});

test("the consistency function is the identity at t = 0 for any F (Eq. 5)", () => {
  const F = normalArray(rng, 6, 3);
  assertClose(consistencyFunction(x0, F, 0), x0, 0);
});

test("the oracle F = v_t/σd makes every prediction recover the true x0 and z (App. B)", () => {
  // For one (x0, z) pair the conditional velocity is the exact v-target, so each prediction is known exactly;
  // a sign, a missing σd or a cos/sin swap in any coefficient breaks one of these.
  for (const t of [0.05, 0.6, 1.2, 1.55]) {
    const xt = diffuse(x0, z, t);
    const F = conditionalVelocity(x0, z, t).map((v) => v / SIGMA_D);
    const expected: Record<PredictionKind, Float64Array> = {
      x0,
      noise: z,
      eps: z.map((v) => v / SIGMA_D),
      v: conditionalVelocity(x0, z, t),
      flowVelocity: z.map((v, i) => v / SIGMA_D - x0[i]),
    };
    for (const kind of Object.keys(expected) as PredictionKind[]) {
      assertClose(predictFromF(kind, xt, F, t), expected[kind], EXACT, `${kind} at t=${t}`);
      assertClose(fFromPrediction(kind, xt, expected[kind], t), F, 1e-10, `F from ${kind} at t=${t}`);
    }
  }
});

test("an x0-prediction at t = 0 does not determine F, and the inverse says so", () => {
  assert.throws(() => fFromPrediction("x0", x0, x0, 0), /does not determine F/);
});

test("EDM σ ↔ TrigFlow t (Eq. 30) and the sampling constants", () => {
  for (const t of [1e-3, 0.3, 1.1, 1.5]) assertClose(tFromSigma(sigmaFromT(t)), t, EXACT);
  assertClose(T_MAX, 1.56455, 1e-5, "t_max = arctan(80/σd)");
  assertClose(sigmaFromT(T_MID), 0.98238, 1e-5, "σ at t_mid = 1.1"); // t_mid = 1.1 (App. G.2) is EDM σ ≈ 0.982
  assertClose(sigmaFromT(Math.PI / 4, 2), 2, EXACT, "σ = σd at t = π/4 for any σd");
});

test("EDM inputs and outputs map onto TrigFlow's: x_t = cos t·x_σ and F = −F_EDM (App. B.2)", () => {
  const eps = normalArray(rng, 6);
  const FEdm = normalArray(rng, 6);
  for (const t of [0.2, 0.9, 1.4]) {
    const sigma = sigmaFromT(t);
    const xSigma = x0.map((v, i) => v + sigma * eps[i]);
    const xt = xSigma.map((v) => trigflowInputScaleFromEdm(t) * v);
    assertClose(xt, diffuse(x0, eps.map((e) => SIGMA_D * e), t), EXACT, "x_t from x_σ");
    // EDM's preconditioning: D = c_skip·x_σ + c_out·F_EDM with c_skip = σd²/(σ²+σd²), c_out = σσd/√(σ²+σd²).
    const cSkip = SIGMA_D ** 2 / (sigma ** 2 + SIGMA_D ** 2);
    const cOut = (sigma * SIGMA_D) / Math.hypot(sigma, SIGMA_D);
    const dEdm = xSigma.map((v, i) => cSkip * v + cOut * FEdm[i]);
    const F = FEdm.map(fFromEdmRawOutput);
    assertClose(consistencyFunction(xt, F, t), dEdm, 1e-11, `denoisers agree at t=${t}`);
  }
});

test("flow-matching time and input scale map x_s = (1 − s)x0 + s·ε onto x_t (Eq. 29)", () => {
  const eps = normalArray(rng, 6);
  for (const t of [0.1, 0.8, 1.5]) {
    const s = flowTimeFromT(t);
    assertClose(tFromFlowTime(s), t, EXACT, "round trip");
    const xs = x0.map((v, i) => (1 - s) * v + s * eps[i]);
    const xt = xs.map((v) => trigflowInputScaleFromFlow(s) * v);
    assertClose(xt, diffuse(x0, eps.map((e) => SIGMA_D * e), t), EXACT, `x_t at t=${t}`);
  }
  assertClose([flowTimeFromT(0), flowTimeFromT(Math.PI / 2)], [0, 1], EXACT, "endpoints");
});

test("SNR(t) = 1/tan²t does not depend on σd (Eq. 34)", () => {
  assertClose(snr(Math.PI / 4), 1, EXACT);
  // In EDM terms SNR = σd²/σ² with σ = σd·tan t (Eq. 29): the same number for every σd.
  for (const sigmaD of [0.1, 0.5, 2]) {
    for (const t of [0.3, 1.2]) assertClose(snr(t), sigmaD ** 2 / sigmaFromT(t, sigmaD) ** 2, 1e-12, `σd=${sigmaD}, t=${t}`);
  }
});
