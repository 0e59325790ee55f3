/**
 * The continuous-time consistency objective of sCM, in the order of Algorithm 1 of Lu & Song (2024):
 *
 *   t from the proposal (§4.2);  x_t = cos t·x0 + sin t·z (Eq. 3)
 *   dx/dt = cos t·z − sin t·x0 (sCT, Eq. 4)   or   σd·F_teacher(x_t/σd, t) (sCD)
 *   F⁻, J = one dual pass of the network with stop-gradient (the rearranged JVP of §5.1)
 *   g = −cos²t·(σd F⁻ − dx/dt) − r·cos t sin t·(x_t + σd·dF⁻/dt)     (= cos t·df⁻/dt at r = 1, Eq. 6)
 *   r = min(1, iteration/H)                                            (tangent warm-up, §4.2)
 *   g ← g / (‖g‖ + c)                                                  (tangent normalisation, §4.2, c = 0.1)
 *   L = e^{w(t)}/D · ‖F_θ − F⁻ − g‖² − w(t)                            (Eq. 8 with adaptive weighting)
 *
 * `scmTargets` computes the first five lines outside any gradient tape (so F⁻ and g are constants), and
 * `scmLoss` is the last; training/scm-step.ts runs them as one optimiser step.
 *
 * JVP convention (§5.1, as the public implementations write it): primal (x_t/σd, t), tangent
 * (cos t sin t·(dx/dt)/σd, cos t sin t), so the JVP returns J = cos t sin t·dF/dt and the second term of g is
 * −r·(cos t sin t·x_t + σd·J). Scaling the tangent by cos t sin t *before* the JVP is the rearrangement that
 * keeps fp16 from overflowing (§5.1).
 *
 * Precision: with `precision: "half"` everything up to g (the inputs, x_t, dx/dt with the teacher's pass, the
 * dual pass and the arithmetic of g) is rounded to fp16 at every intermediate, as on a GPU running the network
 * in fp16, to measure what half precision does to the training signal (§5.1 for the JVP; App. E and Fig. 5c for
 * the discrete objective). The normalisation, the loss and its gradient stay float32 (mixed precision: float32
 * master weights and loss). "float32", the default, runs the same tf ops as always, bit for bit.
 */
import * as tf from "@tensorflow/tfjs";
import { jvp, type FlowNetwork } from "../nn/network.js";
import { arithmeticFor, FLOAT32_ARITHMETIC, type Arithmetic, type Precision } from "../nn/half-precision.js";
import { SIGMA_D } from "../trigflow/trigflow.js";
import { diffuseBatch, pathVelocityBatch, perSample } from "../trigflow/trigflow-batch.js";

/** Tangent normalisation (§4.2, Fig. 5a): per-sample L2 g/(‖g‖ + c), clipping to [−limit, limit], or none. */
export type TangentNormalization = { kind: "l2"; c: number } | { kind: "clip"; limit: number } | { kind: "off" };

export interface ScmBatch {
  x0: tf.Tensor;
  z: tf.Tensor;
  t: tf.Tensor;
  /** the previous grid time t' < t (the discrete objective of App. E only) */
  tPrime?: tf.Tensor;
}

/** What the regression of Eq. 8 needs, all constants (stop-gradient). */
export interface ScmTargets {
  /** the network input x_t/σd */
  u: tf.Tensor;
  /** F⁻ = F_θ(x_t/σd, t), from the dual pass */
  Fminus: tf.Tensor;
  /** the normalised tangent g */
  g: tf.Tensor;
  /** ‖g‖ per sample before normalisation, for diagnostics */
  tangentNorms: tf.Tensor1D;
}

export interface ScmTargetSettings {
  /** sCT (from data) or sCD (from a teacher's velocity) */
  objective: "sct" | "scd";
  /** the teacher for sCD, evaluated without dropout */
  teacher?: FlowNetwork;
  normalization: TangentNormalization;
  /** H of the tangent warm-up r = min(1, iteration/H) */
  warmupIterations: number;
  sigmaD?: number;
  /** the precision of the target computation, up to g before normalisation (default float32; see above) */
  precision?: Precision;
}

/** The rearranged JVP tangents for the network input u = x_t/σd and for t (§5.1), in arithmetic `a`. */
export function scmJvpTangents(dxdt: tf.Tensor, t: tf.Tensor, sigmaD = SIGMA_D, a: Arithmetic = FLOAT32_ARITHMETIC): { uDot: tf.Tensor; tDot: tf.Tensor } {
  return tf.tidy(() => {
    const cs = a.mul(a.cos(t), a.sin(t));
    return { uDot: a.div(a.mul(perSample(cs, dxdt.rank), dxdt), sigmaD), tDot: cs };
  });
}

export interface TangentInputs {
  xt: tf.Tensor;
  t: tf.Tensor;
  /** dx_t/dt: the data path's velocity (sCT) or the teacher's σd·F (sCD) */
  dxdt: tf.Tensor;
  /** F⁻ = F_θ(x_t/σd, t) with stop-gradient */
  Fminus: tf.Tensor;
  /** J = cos t sin t·dF⁻/dt, the JVP output for scmJvpTangents' tangents */
  jvp: tf.Tensor;
  /** tangent warm-up factor r ∈ [0, 1] */
  warmup: number;
  sigmaD?: number;
  /** the arithmetic of g: float32 (default) or simulated fp16 */
  arithmetic?: Arithmetic;
}

/** g = −cos²t·(σd F⁻ − dx/dt) − r·(cos t sin t·x_t + σd·J) (Eq. 6 times cos t, Alg. 1), before normalisation. */
export function scmTangent({ xt, t, dxdt, Fminus, jvp, warmup, sigmaD = SIGMA_D, arithmetic: a = FLOAT32_ARITHMETIC }: TangentInputs): tf.Tensor {
  return tf.tidy(() => {
    const cos = perSample(a.cos(t), xt.rank);
    const sin = perSample(a.sin(t), xt.rank);
    const flowMismatch = a.mul(a.neg(a.square(cos)), a.sub(a.mul(Fminus, sigmaD), dxdt));
    // Warm-up scales the whole second term, x_t part included (Alg. 1).
    const second = a.mul(-warmup, a.add(a.mul(a.mul(cos, sin), xt), a.mul(jvp, sigmaD)));
    return a.add(flowMismatch, second);
  });
}

/** r = min(1, iteration/H): tangent warm-up over H iterations (§4.2; H = 0 disables it). */
export function warmupFactor(iteration: number, warmupIterations: number): number {
  return warmupIterations <= 0 ? 1 : Math.min(1, iteration / warmupIterations);
}

/** ‖g‖₂ of each sample over all its dimensions. */
export function tangentNorms(g: tf.Tensor): tf.Tensor1D {
  return tf.tidy(() => tf.sqrt(tf.sum(tf.square(tf.reshape(g, [g.shape[0], -1])), 1)) as tf.Tensor1D);
}

export function normalizeTangent(g: tf.Tensor, normalization: TangentNormalization): tf.Tensor {
  return tf.tidy(() => {
    switch (normalization.kind) {
      case "off":
        return tf.clone(g);
      case "clip":
        return tf.clipByValue(g, -normalization.limit, normalization.limit);
      case "l2":
        // L2 over all dimensions of each sample (the paper's and edm2_sCM's choice; RMS would divide by √D).
        return tf.div(g, perSample(tf.add(tangentNorms(g), normalization.c), g.rank));
    }
  });
}

/**
 * Alg. 1 up to the loss: x_t, dx/dt, the dual pass and the normalised tangent, outside any gradient tape. In
 * half precision the inputs x0, z, t are rounded to fp16 first and every step up to g is fp16 (the rearranged
 * JVP of §5.1 is what keeps the dual pass finite there); g's normalisation stays float32.
 */
export function scmTargets(net: FlowNetwork, batch: ScmBatch, iteration: number, dropoutSeed: number, settings: ScmTargetSettings): ScmTargets {
  const sigmaD = settings.sigmaD ?? SIGMA_D;
  const { teacher } = settings;
  if (settings.objective === "scd" && !teacher) throw new Error("sCD needs a teacher network");
  const a = arithmeticFor(settings.precision);
  return tf.tidy(() => {
    // Identity in float32; in half precision, the batch as an fp16 GPU would hold it.
    const [x0, z, t] = [batch.x0, batch.z, batch.t].map((x) => a.round(x));
    const xt = diffuseBatch(x0, z, t, a);
    const u = a.div(xt, sigmaD);
    // sCT uses the same x0 and z that built x_t; sCD the teacher's PF-ODE velocity at x_t. (a.round: a network
    // need not build its output from the algebra's ops alone, e.g. the analytic teacher.)
    const dxdt = settings.objective === "sct" ? pathVelocityBatch(x0, z, t, a) : a.mul(a.round(teacher!.apply(a.plain, u, t)), sigmaD);
    const { uDot, tDot } = scmJvpTangents(dxdt, t, sigmaD, a);
    const pass = jvp(net, u, t, uDot, tDot, { dropoutSeed }, a.dual);
    const [Fminus, tangent] = [pass.value, pass.tangent].map((x) => a.round(x));
    const g = scmTangent({ xt, t, dxdt, Fminus, jvp: tangent, warmup: warmupFactor(iteration, settings.warmupIterations), sigmaD, arithmetic: a });
    return { u, Fminus, g: normalizeTangent(g, settings.normalization), tangentNorms: tangentNorms(g) };
  });
}

/**
 * Eq. 8 per sample, averaged over the batch: e^w/D·‖F − F⁻ − g‖² − w, with D the data dimension. Only F and w
 * carry gradient; F⁻ and g are constants computed outside the tape. With w ≡ 0 this is the plain loss ‖·‖²/D.
 */
export function scmLoss(F: tf.Tensor, Fminus: tf.Tensor, g: tf.Tensor, logWeight: tf.Tensor): tf.Scalar {
  return tf.tidy(() => {
    const dims = F.size / F.shape[0];
    const residual = tf.reshape(tf.sub(tf.sub(F, Fminus), g), [F.shape[0], -1]);
    const perSampleLoss = tf.sub(tf.mul(tf.exp(logWeight), tf.div(tf.sum(tf.square(residual), 1), dims)), logWeight);
    return tf.mean(perSampleLoss) as tf.Scalar;
  });
}
