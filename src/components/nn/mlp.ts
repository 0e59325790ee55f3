/**
 * A time-conditioned MLP for 2-D (or any low-dimensional) data: the network of the toy experiments.
 *   emb = TimeConditioning(t);  h = Dense(u)
 *   repeat: h = (h + Dense(Dropout(SiLU(AdaptiveNorm(h, emb))))) · √½
 *   F = Dense(SiLU(GroupNorm(h)))
 * With norm "none" the time enters additively (h + Dense(emb)) instead of through an adaptive norm.
 */
import type * as tf from "@tensorflow/tfjs";
import type { TensorAlgebra } from "./algebra.js";
import { AdaptiveGroupNorm, Dense, Dropout, GroupNorm, LogvarHead, TimeConditioning, residual, silu, type AdaptiveNormKind, type CNoiseKind, type TimeEmbeddingConfig } from "./layers.js";
import { ParameterSet } from "./parameters.js";
import type { ApplyOptions, FlowNetwork } from "./network.js";

export interface MlpConfig {
  dataDim: number;
  hidden: number;
  blocks: number;
  timeEmbedding: TimeEmbeddingConfig;
  cNoise: CNoiseKind;
  norm: AdaptiveNormKind | "none";
  groups: number;
  dropout: number;
  /** gain of the output layer's initial weights: small, so training starts near F = 0 */
  outputGain: number;
  seed: number;
}

export const DEFAULT_MLP_CONFIG: MlpConfig = {
  dataDim: 2,
  hidden: 128,
  blocks: 3,
  timeEmbedding: { kind: "positional", dim: 64 },
  cNoise: "identity",
  norm: "double",
  groups: 8,
  dropout: 0,
  outputGain: 0.1,
  seed: 0,
};

interface MlpBlock {
  norm: AdaptiveGroupNorm | null;
  additive: Dense | null;
  plainNorm: GroupNorm | null;
  dropout: Dropout;
  dense: Dense;
}

export class TimeConditionedMlp implements FlowNetwork {
  readonly params: ParameterSet;
  readonly config: MlpConfig;
  private readonly time: TimeConditioning;
  private readonly input: Dense;
  private readonly blocks: MlpBlock[];
  private readonly outNorm: GroupNorm;
  private readonly output: Dense;
  private readonly logvarHead: LogvarHead;

  constructor(config: Partial<MlpConfig> = {}) {
    const c = (this.config = { ...DEFAULT_MLP_CONFIG, ...config });
    const params = (this.params = new ParameterSet(c.seed));
    this.time = new TimeConditioning(params, "time", c.timeEmbedding, c.cNoise, c.hidden);
    this.input = new Dense(params, "input", c.dataDim, c.hidden);
    this.blocks = Array.from({ length: c.blocks }, (_, i) => ({
      norm: c.norm === "none" ? null : new AdaptiveGroupNorm(params, `block${i}.norm`, c.hidden, c.hidden, c.norm, c.groups),
      additive: c.norm === "none" ? new Dense(params, `block${i}.time`, c.hidden, c.hidden) : null,
      plainNorm: c.norm === "none" ? new GroupNorm(params, `block${i}.gn`, c.hidden, c.groups) : null,
      dropout: new Dropout(c.dropout, i),
      dense: new Dense(params, `block${i}.dense`, c.hidden, c.hidden),
    }));
    this.outNorm = new GroupNorm(params, "out.norm", c.hidden, c.groups);
    this.output = new Dense(params, "out.dense", c.hidden, c.dataDim, { gain: c.outputGain });
    this.logvarHead = new LogvarHead(params, "logvar", c.timeEmbedding.dim, c.cNoise);
  }

  apply<X>(alg: TensorAlgebra<X>, u: X, t: X, { dropoutSeed = null }: ApplyOptions = {}): X {
    const emb = this.time.apply(alg, t);
    let h = this.input.apply(alg, u);
    for (const block of this.blocks) {
      // SiLU inside the norm's own kernel where it is fused (fused-group-norm.ts); with the additive time, after the sum.
      const activated = block.norm ? block.norm.apply(alg, h, emb, "silu") : silu(alg, alg.add(block.plainNorm!.apply(alg, h), block.additive!.apply(alg, emb)));
      const update = block.dense.apply(alg, block.dropout.apply(alg, activated, dropoutSeed));
      h = residual(alg, h, update);
    }
    return this.output.apply(alg, this.outNorm.apply(alg, h, "silu"));
  }

  logvar(t: tf.Tensor): tf.Tensor {
    return this.logvarHead.apply(t);
  }
  get weightHeadNames(): readonly string[] {
    return this.logvarHead.parameterNames;
  }

  dispose(): void {
    this.params.dispose();
    this.logvarHead.dispose();
    this.time.dispose();
  }
}
