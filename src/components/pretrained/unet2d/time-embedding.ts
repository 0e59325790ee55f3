/**
 * Time conditioning of a diffusers UNet2DModel: the sinusoidal projection (`Timesteps`, embeddings.py
 * `get_timestep_embedding`), then `TimestepEmbedding` (linear_1 → SiLU → linear_2), plus an optional
 * class embedding (nn.Embedding) added to the result.
 */
import * as tf from "@tensorflow/tfjs";
import { Linear } from "./layers.js";
import type { Unet2DWeights } from "./weights.js";

/**
 * get_timestep_embedding(t, dim, flip_sin_to_cos, downscale_freq_shift) with max_period 10000, scale 1:
 *   freq_i = exp(−ln(10000)·i / (half − freq_shift)), i < half = ⌊dim/2⌋
 *   emb = [sin(t·freq), cos(t·freq)], or [cos, sin] with flip_sin_to_cos; a zero column pads an odd dim.
 * Computed in float64 on the CPU and rounded once: the consistency models feed t = 250·ln σ up to ≈ 1095, where a
 * float32 product t·freq already carries a phase error of ~6e-5 rad; float64 is the more faithful value.
 * Returns [B, dim] row-major.
 */
export function sinusoidalTimestepEmbedding(timesteps: ArrayLike<number>, dim: number, flipSinToCos: boolean, freqShift: number): Float32Array {
  const half = Math.floor(dim / 2);
  const out = new Float32Array(timesteps.length * dim);
  for (let b = 0; b < timesteps.length; b++) {
    for (let i = 0; i < half; i++) {
      const angle = timesteps[b] * Math.exp((-Math.log(10000) * i) / (half - freqShift));
      const [first, second] = flipSinToCos ? [Math.cos(angle), Math.sin(angle)] : [Math.sin(angle), Math.cos(angle)];
      out[b * dim + i] = first;
      out[b * dim + half + i] = second;
    }
  }
  return out;
}

/** Timesteps → TimestepEmbedding MLP, plus class_embedding(label) when the model is class-conditional. */
export class TimeConditioning {
  private readonly linear1: Linear;
  private readonly linear2: Linear;
  private readonly classTable: string | null;
  constructor(w: Unet2DWeights, readonly projectionDim: number, readonly embeddingDim: number, readonly flipSinToCos: boolean, readonly freqShift: number, readonly numClasses: number | null) {
    this.linear1 = new Linear(w, "time_embedding.linear_1", projectionDim, embeddingDim);
    this.linear2 = new Linear(w, "time_embedding.linear_2", embeddingDim, embeddingDim);
    this.classTable = numClasses === null ? null : w.declare("class_embedding.weight", [numClasses, embeddingDim], "plain");
  }

  apply(w: Unet2DWeights, timesteps: ArrayLike<number>, classLabels: ArrayLike<number> | null): tf.Tensor2D {
    const projected = tf.tensor2d(sinusoidalTimestepEmbedding(timesteps, this.projectionDim, this.flipSinToCos, this.freqShift), [timesteps.length, this.projectionDim]);
    const hidden = this.linear1.apply(w, projected);
    let emb = this.linear2.apply(w, tf.mul(hidden, tf.sigmoid(hidden)));
    if (this.classTable !== null) {
      if (classLabels === null) throw new Error("this model is class-conditional (num_class_embeds is set): pass class labels");
      if (classLabels.length !== timesteps.length) throw new Error(`${classLabels.length} class labels for a batch of ${timesteps.length}`);
      for (let i = 0; i < classLabels.length; i++) {
        const label = classLabels[i];
        if (!Number.isInteger(label) || label < 0 || label >= this.numClasses!) throw new RangeError(`class label ${label} is outside [0, ${this.numClasses! - 1}]`);
      }
      emb = tf.add(emb, tf.gather(w.get(this.classTable), tf.tensor1d(Array.from(classLabels), "int32")));
    } else if (classLabels !== null) {
      throw new Error("class labels were given, but this model has no class embedding (num_class_embeds is null)");
    }
    return emb;
  }
}
