/**
 * One sCM training step (Alg. 1), for sCT (consistency training from data) and sCD (distillation from a
 * teacher's velocity). The order of operations is what makes it correct in TF.js:
 * 1. outside any gradient tape, one dual pass gives F⁻ = F_θ(x_t/σd, t) and J = cos t sin t·dF⁻/dt, with this
 *    step's dropout seed; g is built from them and is therefore a constant (stop-gradient);
 * 2. inside optimizer.minimize, the plain pass recomputes F_θ with the *same* dropout seed, so F_θ − F⁻ = 0
 *    numerically and the gradient is −(2e^w/D)·gᵀ∇_θF_θ, a regression of F toward F⁻ + g.
 */
import * as tf from "@tensorflow/tfjs";
import { plainAlgebra } from "../nn/algebra.js";
import { jvp, type FlowNetwork } from "../nn/network.js";
import { normalizeTangent, perSample, scmJvpTangents, scmLoss, scmTangent, warmupFactor, type TangentNormalization } from "../objectives/scm.js";
import { SIGMA_D } from "../trigflow/trigflow.js";
import { discreteTangent, teacherDdimStep } from "../objectives/discrete.js";
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
}

export interface ScmStepResult {
  loss: tf.Scalar;
  /** ‖g‖ per sample before normalisation, for diagnostics */
  tangentNorms: tf.Tensor1D;
  /** ‖∇_θ L‖₂ of this step */
  gradientNorm: tf.Scalar;
}

export interface ScmBatch {
  x0: tf.Tensor;
  z: tf.Tensor;
  t: tf.Tensor;
  /** the previous grid time t' < t (discrete objective only) */
  tPrime?: tf.Tensor;
}

export interface ScmTargets {
  /** the network input x_t/σd */
  u: tf.Tensor;
  /** F⁻, from the dual pass */
  Fminus: tf.Tensor;
  /** the normalised tangent g */
  g: tf.Tensor;
  tangentNorms: tf.Tensor1D;
}

/** Step 1 of the docstring: everything the regression needs, computed outside the tape (stop-gradient). */
export function scmTargets(net: FlowNetwork, { x0, z, t, tPrime }: ScmBatch, iteration: number, dropoutSeed: number, config: ScmStepConfig): ScmTargets {
  const sigmaD = config.sigmaD ?? SIGMA_D;
  const warmup = warmupFactor(iteration, config.warmupIterations);
  return tf.tidy(() => {
    const cos = perSample(tf.cos(t), x0.rank);
    const sin = perSample(tf.sin(t), x0.rank);
    const xt = tf.add(tf.mul(cos, x0), tf.mul(sin, z));
    const u = tf.div(xt, sigmaD);
    const norms = (g: tf.Tensor) => tf.sqrt(tf.sum(tf.square(tf.reshape(g, [g.shape[0], -1])), 1)) as tf.Tensor1D;
    if (config.objective === "discrete") {
      // App. E: one teacher DDIM step to t', then the finite difference of f⁻ divided by sin(t − t') (Eq. 37).
      if (!config.teacher || !tPrime) throw new Error("the discrete-time objective needs a teacher and t'");
      const Fteacher = config.teacher.apply(plainAlgebra, u, t);
      const xtPrime = teacherDdimStep(xt, t, tPrime, Fteacher, sigmaD);
      const Fminus = net.apply(plainAlgebra, u, t, { dropoutSeed });
      const FminusAtTPrime = net.apply(plainAlgebra, tf.div(xtPrime, sigmaD), tPrime, { dropoutSeed });
      const g = discreteTangent({ xt, t, tPrime, FminusAtT: Fminus, FminusAtTPrime, Fteacher, warmup, sigmaD });
      return { u, Fminus, g: normalizeTangent(g, config.normalization), tangentNorms: norms(g) };
    }
    let dxdt: tf.Tensor;
    if (config.objective === "sct") {
      dxdt = tf.sub(tf.mul(cos, z), tf.mul(sin, x0)); // the same x0 and z that built x_t
    } else {
      if (!config.teacher) throw new Error("sCD needs a teacher network");
      dxdt = tf.mul(config.teacher.apply(plainAlgebra, u, t), sigmaD);
    }
    const { uDot, tDot } = scmJvpTangents(dxdt, t, sigmaD);
    const { value: Fminus, tangent } = jvp(net, u, t, uDot, tDot, { dropoutSeed });
    const g = scmTangent({ xt, t, dxdt, Fminus, jvp: tangent, warmup, sigmaD });
    return { u, Fminus, g: normalizeTangent(g, config.normalization), tangentNorms: norms(g) };
  });
}

/** One optimiser step of sCT or sCD. The caller disposes the returned tensors. */
export function scmTrainingStep(net: FlowNetwork, optimizer: tf.Optimizer, batch: ScmBatch, iteration: number, dropoutSeed: number, config: ScmStepConfig): ScmStepResult {
  const { t } = batch;
  const prepared = scmTargets(net, batch, iteration, dropoutSeed, config);
  const variables = net.params.trainableVariables(config.adaptiveWeighting ? undefined : (name) => net.weightHeadNames.includes(name));
  const { loss, gradientNorm } = minimizeMeasuringGradient(
    optimizer,
    () => {
      const F = net.apply(plainAlgebra, prepared.u, t, { dropoutSeed });
      const w = config.adaptiveWeighting ? net.logvar(t) : tf.zerosLike(t);
      return scmLoss(F, prepared.Fminus, prepared.g, w);
    },
    variables,
  );
  tf.dispose([prepared.u, prepared.Fminus, prepared.g]);
  return { loss, tangentNorms: prepared.tangentNorms, gradientNorm };
}
