/**
 * Adam and RAdam over all parameters at once. TF.js's optimisers update one variable at a time, about a dozen
 * kernels each: for a UNet's ~150 variables that is ~2,000 kernels per step, a quarter of an sCT step's, each a
 * GPU dispatch of fixed cost. Here the gradients are concatenated into one vector, the moments live as one vector
 * each, the update is a dozen kernels in total, and the new weights are split back into the variables.
 *
 * The arithmetic is, element by element, exactly that of the per-variable optimisers it replaces, so a run
 * takes bit-identical steps (test/fused-adam.test.ts):
 * - Adam as TF.js's tf.train.adam: m ← β1 m + (1 − β1) g, v ← β2 v + (1 − β2) g², with the bias corrections
 *   1 − β^k from float32 running products β^k, θ ← θ − lr·(m/(1 − β1^k)) / (√(v/(1 − β2^k)) + ε);
 * - RAdam (Liu et al. 2020), the optimiser sCM uses for its consistency models (App. G.2: β = (0.9, 0.99),
 *   ε = 1e-8), as PyTorch's torch.optim.RAdam:
 *     m̂ = m/(1 − β1^k),  ρ∞ = 2/(1 − β2) − 1,  ρ_k = ρ∞ − 2k β2^k/(1 − β2^k)
 *     if ρ_k > 5: θ ← θ − lr·m̂·r_k·√(1 − β2^k)/(√v + ε),  r_k = √((ρ_k − 4)(ρ_k − 2)ρ∞ / ((ρ∞ − 4)(ρ∞ − 2)ρ_k))
 *     else:       θ ← θ − lr·m̂   (the variance of the adaptive rate is not yet tractable: plain momentum)
 *
 * Its state reads and writes in Adam's layout, [step count, m₀…m_{n−1}, v₀…v_{n−1}] by the variables'
 * positions, so a checkpoint saved by tf.train.adam or the earlier per-variable RAdam resumes here, and a
 * resumed run continues bit for bit.
 */
import * as tf from "@tensorflow/tfjs";
import { FlatParameters } from "./flat-parameters.js";
import { flatten, unflatten } from "./flat-kernels.js";

export interface FusedAdamOptions {
  /** RAdam's rectified update instead of Adam's */
  rectified: boolean;
  beta1?: number;
  beta2?: number;
  /** Adam's default is the backend's ε (1e-7 on CPU and WebGPU), as tf.train.adam; RAdam's is 1e-8 */
  epsilon?: number;
}

export class FusedAdam extends tf.Optimizer {
  static get className(): string {
    return "FusedAdam";
  }
  readonly rectified: boolean;
  readonly beta1: number;
  readonly beta2: number;
  readonly epsilon: number;
  private step = 0;
  private moments: { m: tf.Variable; v: tf.Variable } | null = null;
  /** θ as one vector, kept from one step to the next (flat-parameters.ts) */
  private parameters: FlatParameters | null = null;
  /** shapes of the variables the moments were made for, in order */
  private shapes: number[][] = [];
  /** β1^k and β2^k for the coming step k, as tf.train.adam keeps them (float32 running products) */
  private accumulatedBeta: { beta1: tf.Variable; beta2: tf.Variable } | null = null;

  constructor(public learningRate: number, options: FusedAdamOptions) {
    super();
    this.rectified = options.rectified;
    this.beta1 = options.beta1 ?? 0.9;
    this.beta2 = options.beta2 ?? 0.99;
    this.epsilon = options.epsilon ?? (this.rectified ? 1e-8 : tf.backend().epsilon());
  }

  override applyGradients(variableGradients: tf.NamedTensorMap | { name: string; tensor: tf.Tensor }[]): void {
    const entries = Array.isArray(variableGradients) ? variableGradients.map((v) => [v.name, v.tensor] as const) : Object.entries(variableGradients);
    const variables = entries.map(([name]) => tf.engine().registeredVariables[name]);
    const gradient = flatten(entries.map(([, g]) => g));
    try {
      this.applyFlatGradient(gradient, variables);
    } finally {
      gradient.dispose();
    }
  }

  /** One step for `variables` (the same ones, in the same order, at every step) from their gradients as one vector. */
  applyFlatGradient(gradient: tf.Tensor1D, variables: readonly tf.Variable[]): void {
    const { moments: state, parameters } = this.stateFor(variables);
    this.step++;
    const k = this.step;
    const { beta1, beta2 } = this;
    tf.tidy(() => {
      const theta = parameters.values();
      const m = tf.add(tf.mul(state.m, beta1), tf.mul(gradient, 1 - beta1));
      const v = tf.add(tf.mul(state.v, beta2), tf.mul(tf.square(gradient), 1 - beta2));
      state.m.assign(m);
      state.v.assign(v);
      let updated: tf.Tensor;
      if (this.rectified) {
        const b1k = 1 - beta1 ** k;
        const b2k = 1 - beta2 ** k;
        const rhoInf = 2 / (1 - beta2) - 1;
        const rho = rhoInf - (2 * k * beta2 ** k) / b2k;
        const mHat = tf.div(m, b1k);
        const update = rho > 5 ? tf.div(tf.mul(mHat, Math.sqrt(((rho - 4) * (rho - 2) * rhoInf) / ((rhoInf - 4) * (rhoInf - 2) * rho)) * Math.sqrt(b2k)), tf.add(tf.sqrt(v), this.epsilon)) : mHat;
        updated = tf.sub(theta, tf.mul(update, this.learningRate));
      } else {
        const accumulated = this.accumulatedBeta!;
        const mHat = tf.div(m, tf.sub(1, accumulated.beta1));
        const vHat = tf.div(v, tf.sub(1, accumulated.beta2));
        // (−lr)·update + θ, in tf.train.adam's order of operations.
        updated = tf.add(tf.mul(tf.div(mHat, tf.add(tf.sqrt(vHat), this.epsilon)), -this.learningRate), theta);
        accumulated.beta1.assign(tf.mul(accumulated.beta1, beta1));
        accumulated.beta2.assign(tf.mul(accumulated.beta2, beta2));
      }
      parameters.write(updated as tf.Tensor1D);
    });
    this.incrementIterations();
  }

  /**
   * The moments and the flat view of θ for `variables`, which must be the very variables of the earlier steps:
   * checked by identity while the view exists, and by shape when moments restored by setWeights meet them.
   */
  private stateFor(variables: readonly tf.Variable[]): { moments: { m: tf.Variable; v: tf.Variable }; parameters: FlatParameters } {
    if (this.moments && this.parameters) {
      if (variables.length !== this.parameters.variables.length || variables.some((v, i) => v !== this.parameters!.variables[i])) {
        throw new Error("FusedAdam: the variables changed between steps (other variables than before); an optimiser serves one fixed list");
      }
      return { moments: this.moments, parameters: this.parameters };
    }
    const shapes = variables.map((v) => [...v.shape]);
    if (this.moments) {
      if (shapes.length !== this.shapes.length || shapes.some((s, i) => s.join() !== this.shapes[i].join())) {
        throw new Error("FusedAdam: the variables changed between steps (their number or shapes); an optimiser serves one fixed list");
      }
    } else {
      this.shapes = shapes;
      const size = shapes.reduce((total, s) => total + s.reduce((a, b) => a * b, 1), 0);
      // Inside tidy: a variable made from a tensor leaves that tensor behind otherwise.
      this.moments = tf.tidy(() => ({ m: tf.variable(tf.zeros([size]), false), v: tf.variable(tf.zeros([size]), false) }));
      this.accumulatedBeta = tf.tidy(() => ({ beta1: tf.variable(tf.scalar(this.beta1), false), beta2: tf.variable(tf.scalar(this.beta2), false) }));
    }
    this.parameters = new FlatParameters(variables);
    return { moments: this.moments, parameters: this.parameters };
  }

  override dispose(): void {
    this.freeState();
    super.dispose();
  }

  private freeState(): void {
    tf.dispose([this.moments?.m ?? [], this.moments?.v ?? [], this.accumulatedBeta?.beta1 ?? [], this.accumulatedBeta?.beta2 ?? []]);
    this.parameters?.dispose();
    this.parameters = null;
    this.moments = null;
    this.accumulatedBeta = null;
  }

  /** [step count, m₀…m_{n−1}, v₀…v_{n−1}] in Adam's layout: new tensors, which the caller disposes. */
  override async getWeights(): Promise<{ name: string; tensor: tf.Tensor }[]> {
    const iter = { name: "iter", tensor: tf.scalar(this.step, "int32") as tf.Tensor };
    if (!this.moments) return [iter];
    const m = unflatten(this.moments.m as tf.Tensor1D, this.shapes);
    const v = unflatten(this.moments.v as tf.Tensor1D, this.shapes);
    return [iter, ...m.map((tensor, i) => ({ name: `${i}/m`, tensor })), ...v.map((tensor, i) => ({ name: `${i}/v`, tensor }))];
  }

  override async setWeights(weights: { name: string; tensor: tf.Tensor }[]): Promise<void> {
    const [iter, ...rest] = weights;
    if (!iter || iter.name !== "iter" || rest.length % 2 !== 0) throw new Error("optimiser state must be [iter, m…, v…]");
    const n = rest.length / 2;
    this.freeState();
    this.step = (await iter.tensor.data())[0];
    this.iterations_ = this.step;
    if (n === 0) return;
    this.shapes = rest.slice(0, n).map(({ tensor }) => [...tensor.shape]);
    this.moments = tf.tidy(() => ({ m: tf.variable(flatten(rest.slice(0, n).map((w) => w.tensor)), false), v: tf.variable(flatten(rest.slice(n).map((w) => w.tensor)), false) }));
    // β^(k+1) for the next step as the running product it would have been, so a resumed run takes the very steps
    // the uninterrupted one takes (tf.train.adam's setWeights uses pow, which can differ in the last bit).
    this.accumulatedBeta = tf.tidy(() => ({
      beta1: tf.variable(tf.scalar(float32Power(this.beta1, this.step + 1)), false),
      beta2: tf.variable(tf.scalar(float32Power(this.beta2, this.step + 1)), false),
    }));
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { learningRate: this.learningRate, rectified: this.rectified, beta1: this.beta1, beta2: this.beta2, epsilon: this.epsilon };
  }
}

/** β^k as k float32 multiplications starting from β: the running product a float32 tensor keeps. */
function float32Power(beta: number, k: number): number {
  const b = Math.fround(beta);
  let product = b;
  for (let i = 1; i < k; i++) product = Math.fround(product * b);
  return product;
}

/** Whether an optimiser is a FusedAdam (tf.Optimizer's `instanceof` accepts any object with minimize and applyGradients). */
export function isFusedAdam(optimizer: tf.Optimizer): optimizer is FusedAdam {
  return typeof (optimizer as Partial<FusedAdam>).applyFlatGradient === "function";
}
