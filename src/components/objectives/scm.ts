/**
 * The continuous-time consistency objective of sCM, exactly as Algorithm 1 of Lu & Song (2024):
 *
 *   t from the proposal; x_t = cos t·x0 + sin t·z;  dx/dt = cos t·z − sin t·x0 (sCT)  or  σd·F_teacher(x_t/σd, t) (sCD)
 *   g = −cos²t·(σd F⁻ − dx/dt) − r·cos t sin t·(x_t + σd·dF⁻/dt)          (the tangent; = cos t·df/dt at r = 1)
 *   g ← g / (‖g‖ + c)                                                       (tangent normalisation, c = 0.1)
 *   L = e^{w(t)}/D · ‖F_θ − F⁻ − g‖² − w(t)                                  (Eq. 8 with adaptive weighting)
 *
 * F⁻ and dF⁻/dt are the *same* network with stop-gradient, from one dual pass (network.ts jvp()).
 *
 * JVP convention (§5.1, as the public implementations write it): primal (x_t/σd, t), tangent (cos t sin t·(dx/dt)/σd, cos t sin t),
 * so the JVP returns J = cos t sin t·dF/dt and the second term of g is −r·(cos t sin t·x_t + σd·J). Scaling the
 * tangent by cos t sin t *before* the JVP is the rearrangement that keeps fp16 from overflowing (§5.1).
 */
import * as tf from "@tensorflow/tfjs";
import { SIGMA_D } from "../trigflow/trigflow.js";

/** [B] → [B, 1, …] so per-sample scalars broadcast over a sample of the given rank. */
export function perSample(values: tf.Tensor, rank: number): tf.Tensor {
  return tf.reshape(values, [values.shape[0], ...new Array<number>(rank - 1).fill(1)]);
}

/** The rearranged JVP tangents for the network input u = x_t/σd and for t. */
export function scmJvpTangents(dxdt: tf.Tensor, t: tf.Tensor, sigmaD = SIGMA_D): { uDot: tf.Tensor; tDot: tf.Tensor } {
  return tf.tidy(() => {
    const cs = tf.mul(tf.cos(t), tf.sin(t));
    return { uDot: tf.div(tf.mul(perSample(cs, dxdt.rank), dxdt), sigmaD), tDot: cs };
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
}

/** g = −cos²t·(σd F⁻ − dx/dt) − r·(cos t sin t·x_t + σd·J) (Alg. 1), before normalisation. */
export function scmTangent({ xt, t, dxdt, Fminus, jvp, warmup, sigmaD = SIGMA_D }: TangentInputs): tf.Tensor {
  return tf.tidy(() => {
    const cos = perSample(tf.cos(t), xt.rank);
    const sin = perSample(tf.sin(t), xt.rank);
    const flowMismatch = tf.mul(tf.neg(tf.square(cos)), tf.sub(tf.mul(Fminus, sigmaD), dxdt));
    // Warm-up scales the whole second term, x_t part included (Alg. 1).
    const second = tf.mul(-warmup, tf.add(tf.mul(tf.mul(cos, sin), xt), tf.mul(jvp, sigmaD)));
    return tf.add(flowMismatch, second);
  });
}

/** Tangent normalisation (§4.2, Fig. 5a): per-sample L2 g/(‖g‖ + c), clipping to [−limit, limit], or none. */
export type TangentNormalization = { kind: "l2"; c: number } | { kind: "clip"; limit: number } | { kind: "off" };

export function normalizeTangent(g: tf.Tensor, normalization: TangentNormalization): tf.Tensor {
  return tf.tidy(() => {
    switch (normalization.kind) {
      case "off":
        return tf.clone(g);
      case "clip":
        return tf.clipByValue(g, -normalization.limit, normalization.limit);
      case "l2": {
        // L2 over all dimensions of each sample (the paper's and edm2_sCM's choice; RMS would divide by √D).
        const norms = tf.sqrt(tf.sum(tf.square(tf.reshape(g, [g.shape[0], -1])), 1));
        return tf.div(g, perSample(tf.add(norms, normalization.c), g.rank));
      }
    }
  });
}

/** r = min(1, iteration/H): tangent warm-up over H iterations (H = 0 disables it). */
export function warmupFactor(iteration: number, warmupIterations: number): number {
  return warmupIterations <= 0 ? 1 : Math.min(1, iteration / warmupIterations);
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
