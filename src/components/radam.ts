/**
 * RAdam (Liu et al. 2020, "On the Variance of the Adaptive Learning Rate and Beyond"), the optimiser sCM uses
 * for its consistency models (App. G.2: lr 1e-4, β = (0.9, 0.99), ε = 1e-8). TF.js ships Adam but not RAdam.
 * Same update as PyTorch's torch.optim.RAdam:
 *   m ← β1 m + (1 − β1) g,  v ← β2 v + (1 − β2) g²,  m̂ = m/(1 − β1^k)
 *   ρ∞ = 2/(1 − β2) − 1,  ρ_k = ρ∞ − 2k β2^k/(1 − β2^k)
 *   if ρ_k > 5: θ ← θ − lr·m̂·r_k·√(1 − β2^k)/(√v + ε),  r_k = √((ρ_k − 4)(ρ_k − 2)ρ∞ / ((ρ∞ − 4)(ρ∞ − 2)ρ_k))
 *   else:       θ ← θ − lr·m̂   (the variance of the adaptive rate is not yet tractable: plain momentum)
 */
import * as tf from "@tensorflow/tfjs";

export class RAdamOptimizer extends tf.Optimizer {
  static get className(): string {
    return "RAdam";
  }
  private step = 0;
  private readonly moments = new Map<string, { m: tf.Variable; v: tf.Variable }>();

  constructor(readonly learningRate: number, readonly beta1 = 0.9, readonly beta2 = 0.99, readonly epsilon = 1e-8) {
    super();
  }

  override applyGradients(variableGradients: tf.NamedTensorMap | { name: string; tensor: tf.Tensor }[]): void {
    const entries = Array.isArray(variableGradients) ? variableGradients.map((v) => [v.name, v.tensor] as const) : Object.entries(variableGradients);
    this.step++;
    const k = this.step;
    const b1k = 1 - this.beta1 ** k;
    const b2k = 1 - this.beta2 ** k;
    const rhoInf = 2 / (1 - this.beta2) - 1;
    const rho = rhoInf - (2 * k * this.beta2 ** k) / b2k;
    const rectified = rho > 5;
    const r = rectified ? Math.sqrt(((rho - 4) * (rho - 2) * rhoInf) / ((rhoInf - 4) * (rhoInf - 2) * rho)) : 0;
    tf.tidy(() => {
      for (const [name, gradient] of entries) {
        if (gradient == null) continue;
        const variable = tf.engine().registeredVariables[name];
        let state = this.moments.get(name);
        if (!state) {
          state = { m: tf.variable(tf.zerosLike(variable), false), v: tf.variable(tf.zerosLike(variable), false) };
          this.moments.set(name, state);
        }
        state.m.assign(tf.add(tf.mul(state.m, this.beta1), tf.mul(gradient, 1 - this.beta1)));
        state.v.assign(tf.add(tf.mul(state.v, this.beta2), tf.mul(tf.square(gradient), 1 - this.beta2)));
        const mHat = tf.div(state.m, b1k);
        const update = rectified ? tf.div(tf.mul(mHat, r * Math.sqrt(b2k)), tf.add(tf.sqrt(state.v), this.epsilon)) : mHat;
        variable.assign(tf.sub(variable, tf.mul(update, this.learningRate)));
      }
    });
    this.incrementIterations();
  }

  override dispose(): void {
    for (const { m, v } of this.moments.values()) tf.dispose([m, v]);
    this.moments.clear();
    super.dispose();
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { learningRate: this.learningRate, beta1: this.beta1, beta2: this.beta2, epsilon: this.epsilon };
  }
}
