/**
 * The configuration of the small UNet (nn/unet.ts), apart from the network so that pages can read and edit
 * it without loading TF.js on their main thread.
 */
import type { AdaptiveNormKind, CNoiseKind, TimeEmbeddingConfig } from "./layers.js";

export interface UNetConfig {
  resolution: number;
  inChannels: number;
  /** channels of the first level; level l has baseChannels·channelMult[l] */
  baseChannels: number;
  channelMult: number[];
  blocksPerLevel: number;
  /** resolutions (e.g. [16]) whose blocks end with self-attention */
  attentionResolutions: number[];
  attentionHeads: number;
  dropout: number;
  timeEmbedding: TimeEmbeddingConfig;
  cNoise: CNoiseKind;
  norm: AdaptiveNormKind;
  /** gain of the last convolution of each block and of the output: small, so F starts near 0 */
  outputGain: number;
  seed: number;
}

export const DEFAULT_UNET_CONFIG: UNetConfig = {
  resolution: 32,
  inChannels: 3,
  baseChannels: 32,
  channelMult: [1, 2, 2],
  blocksPerLevel: 1,
  attentionResolutions: [16],
  attentionHeads: 1,
  dropout: 0,
  timeEmbedding: { kind: "positional", dim: 32 },
  cNoise: "identity",
  norm: "double",
  outputGain: 0.1,
  seed: 0,
};
