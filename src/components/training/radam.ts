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
  /**
   * First and second moments by the variable's position in the gradient list, as TF.js's Adam keeps them:
   * callers pass their variables in the same order every step, and positions (unlike TF.js's generated
   * variable names) survive a reload, so a saved state resumes in a new session.
   */
  private moments: { m: tf.Variable; v: tf.Variable }[] = [];

  constructor(public learningRate: number, readonly beta1 = 0.9, readonly beta2 = 0.99, readonly epsilon = 1e-8) {
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
      entries.forEach(([name, gradient], i) => {
        if (gradient == null) return;
        const variable = tf.engine().registeredVariables[name];
        const state = (this.moments[i] ??= { m: tf.variable(tf.zerosLike(variable), false), v: tf.variable(tf.zerosLike(variable), false) });
        state.m.assign(tf.add(tf.mul(state.m, this.beta1), tf.mul(gradient, 1 - this.beta1)));
        state.v.assign(tf.add(tf.mul(state.v, this.beta2), tf.mul(tf.square(gradient), 1 - this.beta2)));
        const mHat = tf.div(state.m, b1k);
        const update = rectified ? tf.div(tf.mul(mHat, r * Math.sqrt(b2k)), tf.add(tf.sqrt(state.v), this.epsilon)) : mHat;
        variable.assign(tf.sub(variable, tf.mul(update, this.learningRate)));
      });
    });
    this.incrementIterations();
  }

  override dispose(): void {
    for (const { m, v } of this.moments) tf.dispose([m, v]);
    this.moments = [];
    super.dispose();
  }

  /** [step count, m₀…m_{n−1}, v₀…v_{n−1}], in Adam's layout; the tensors are the optimiser's own (do not dispose). */
  override async getWeights(): Promise<{ name: string; tensor: tf.Tensor }[]> {
    return [
      { name: "iter", tensor: tf.scalar(this.step, "int32") },
      ...this.moments.map(({ m }, i) => ({ name: `${i}/m`, tensor: m as tf.Tensor })),
      ...this.moments.map(({ v }, i) => ({ name: `${i}/v`, tensor: v as tf.Tensor })),
    ];
  }

  override async setWeights(weights: { name: string; tensor: tf.Tensor }[]): Promise<void> {
    const [iter, ...rest] = weights;
    if (!iter || iter.name !== "iter" || rest.length % 2 !== 0) throw new Error("RAdam state must be [iter, m…, v…]");
    const n = rest.length / 2;
    for (const { m, v } of this.moments) tf.dispose([m, v]);
    this.step = (await iter.tensor.data())[0];
    this.iterations_ = this.step;
    this.moments = Array.from({ length: n }, (_, i) => ({ m: tf.variable(rest[i].tensor, false), v: tf.variable(rest[n + i].tensor, false) }));
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { learningRate: this.learningRate, beta1: this.beta1, beta2: this.beta2, epsilon: this.epsilon };
  }
}
