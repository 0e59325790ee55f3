/**
 * One sCM training step (Alg. 1), for sCT (consistency training from data), sCD (distillation from a
 * teacher's velocity) and the discrete-time CM of App. E. The order of operations is what makes it correct
 * in TF.js:
 * 1. outside any gradient tape, the objective's targets (objectives/scm.ts or discrete.ts) give F⁻ and the
 *    normalised tangent g with this step's dropout seed; they are therefore constants (stop-gradient);
 * 2. inside optimizer.minimize, the plain pass recomputes F_θ with the *same* dropout seed, so F_θ − F⁻ = 0
 *    numerically and the gradient of Eq. 8 is −(2e^w/D)·gᵀ∇_θF_θ, a regression of F toward F⁻ + g.
 *
 * With `precision: "half"` the targets are computed in simulated fp16 (objectives/scm.ts) and the loss in
 * float32 from an fp16 forward pass, as mixed-precision training does: see scmTrainingStep.
 */
import * as tf from "@tensorflow/tfjs";
import { plainAlgebra } from "../nn/algebra.js";
import { forward, type FlowNetwork } from "../nn/network.js";
import { roundToHalf, type Precision } from "../nn/half-precision.js";
import { scmLoss, scmTargets, type ScmBatch, type TangentNormalization } from "../objectives/scm.js";
import { discreteTargets } from "../objectives/discrete.js";
import { minimizeMeasuringGradient } from "./measured-step.js";

export interface ScmStepConfig {
  /** continuous sCT or sCD, or the discrete-time CM of App. E (with a teacher's DDIM step) */
  objective: "sct" | "scd" | "discrete";
  /** the teacher for sCD and the discrete CM (evaluated without dropout); unused for sCT */
  teacher?: FlowNetwork;
  normalization: TangentNormalization;
  /** H of the tangent warm-up r = min(1, iteration/H) */
  warmupIterations: number;
  /** learn the per-time log-weight w(t) of Eq. 8 (otherwise w ≡ 0) */
  adaptiveWeighting: boolean;
  sigmaD?: number;
  /**
   * The precision of the targets F⁻ and g up to normalisation: float32 (default), or simulated fp16 (§5.1,
   * App. E), with float32 weights, normalisation and loss
   */
  precision?: Precision;
}

export interface ScmStepResult {
  loss: tf.Scalar;
  /** ‖g‖ per sample before normalisation, for diagnostics */
  tangentNorms: tf.Tensor1D;
  /** ‖∇_θ L‖₂ of this step */
  gradientNorm: tf.Scalar;
}

/** One optimiser step of sCT, sCD or the discrete CM. The caller disposes the returned tensors. */
export function scmTrainingStep(net: FlowNetwork, optimizer: tf.Optimizer, batch: ScmBatch, iteration: number, dropoutSeed: number, config: ScmStepConfig): ScmStepResult {
  const { objective, teacher } = config;
  let prepared;
  if (objective === "discrete") {
    if (!teacher) throw new Error("the discrete-time objective needs a teacher");
    prepared = discreteTargets(net, batch, iteration, dropoutSeed, { ...config, teacher });
  } else {
    prepared = scmTargets(net, batch, iteration, dropoutSeed, { ...config, objective });
  }
  const { u, Fminus, g } = prepared;
  // Mixed precision: a GPU computes the loss's F_θ in the same fp16 pass as F⁻ (same weights, same dropout),
  // so F_θ − F⁻ = 0 there too, and backpropagates into float32 weights. Simulated here by the float32 pass plus
  // the constant (F⁻ − F_θ in float32), computed outside the tape: F's value is the fp16 one, its gradient the
  // float32 pass's (rounding has no useful gradient). Without it the fp16 error of F⁻ would enter the target as
  // a spurious term beside g. t is the fp16 time the targets used.
  const half = config.precision === "half";
  const t = half ? roundToHalf(batch.t) : batch.t;
  const toHalf = half ? tf.tidy(() => tf.sub(Fminus, forward(net, u, t, { dropoutSeed }))) : null;
  const variables = net.params.trainableVariables(config.adaptiveWeighting ? undefined : (name) => net.weightHeadNames.includes(name));
  const { loss, gradientNorm } = minimizeMeasuringGradient(
    optimizer,
    () => {
      const F32 = net.apply(plainAlgebra, u, t, { dropoutSeed });
      const F = toHalf ? tf.add(F32, toHalf) : F32;
      const w = config.adaptiveWeighting ? net.logvar(t) : tf.zerosLike(t);
      return scmLoss(F, Fminus, g, w);
    },
    variables,
  );
  tf.dispose([u, Fminus, g, ...(half ? [t] : []), toHalf ?? []]);
  return { loss, tangentNorms: prepared.tangentNorms, gradientNorm };
}
