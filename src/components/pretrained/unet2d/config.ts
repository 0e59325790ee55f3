/**
 * The config.json of a diffusers `UNet2DModel` (huggingface/diffusers: models/unets/unet_2d.py), read,
 * validated and resolved into the plain numbers the TF.js port builds from.
 *
 * Supported is what OpenAI's ImageNet-64 consistency models need (`openai/diffusers-cd_imagenet64_l2`,
 * `openai/diffusers-ct_imagenet64`, docs: checkpoints-and-data.md §1.2) plus the plain blocks that small test
 * configs use: positional (sinusoidal) time embedding, an nn.Embedding class embedding, resnets with
 * "default" or "scale_shift" time conditioning, self-attention, downsampling by a stride-2 convolution or by a
 * resnet with average pooling, upsampling by nearest ×2 then a convolution or by a resnet. Anything else
 * (Fourier/learned time embeddings, FIR resampling, skip blocks, cross-attention, "spatial"/"ada_group"
 * norms) is refused here with a message naming the option, before any weight is downloaded.
 */

/** The fields of diffusers' UNet2DModel config this port reads (snake_case, as in config.json). */
export interface DiffusersUnet2DConfigJson {
  _class_name?: string;
  sample_size?: number | [number, number] | null;
  in_channels?: number;
  out_channels?: number;
  center_input_sample?: boolean;
  time_embedding_type?: string;
  time_embedding_dim?: number | null;
  freq_shift?: number;
  flip_sin_to_cos?: boolean;
  down_block_types?: string[];
  mid_block_type?: string | null;
  up_block_types?: string[];
  block_out_channels?: number[];
  layers_per_block?: number;
  mid_block_scale_factor?: number;
  downsample_padding?: number;
  downsample_type?: string;
  upsample_type?: string;
  dropout?: number;
  act_fn?: string;
  attention_head_dim?: number | null;
  norm_num_groups?: number;
  attn_norm_num_groups?: number | null;
  norm_eps?: number;
  resnet_time_scale_shift?: string;
  add_attention?: boolean;
  class_embed_type?: string | null;
  num_class_embeds?: number | null;
  num_train_timesteps?: number | null;
}

export type TimeScaleShift = "default" | "scale_shift";
/** How a level changes resolution: diffusers' Downsample2D/Upsample2D with a conv, or a ResnetBlock2D(down/up=True). */
export type ResampleKind = "conv" | "resnet" | "none";

export interface DownBlockPlan {
  /** the diffusers class name as written in the config */
  type: string;
  inChannels: number;
  outChannels: number;
  attention: boolean;
  downsample: ResampleKind;
}

export interface UpBlockPlan {
  type: string;
  /** channels of the matching down level's input (the last skip this block consumes) */
  inChannels: number;
  /** channels arriving from the block below */
  prevOutputChannels: number;
  outChannels: number;
  attention: boolean;
  upsample: ResampleKind;
}

/** Everything the port needs, with diffusers' defaults applied. */
export interface ResolvedUnet2DConfig {
  sampleSize: [number, number] | null;
  inChannels: number;
  outChannels: number;
  centerInputSample: boolean;
  /** width of the sinusoidal embedding: block_out_channels[0] */
  timeProjectionDim: number;
  /** width of the time MLP's output, time_embedding_dim or 4·block_out_channels[0] */
  timeEmbeddingDim: number;
  flipSinToCos: boolean;
  freqShift: number;
  blockOutChannels: number[];
  layersPerBlock: number;
  downBlocks: DownBlockPlan[];
  upBlocks: UpBlockPlan[];
  midBlock: { attention: boolean; attentionGroups: number | null; scaleFactor: number } | null;
  downsamplePadding: 0 | 1;
  /** attention_head_dim; null means one head over all channels */
  attentionHeadDim: number | null;
  normGroups: number;
  normEps: number;
  timeScaleShift: TimeScaleShift;
  numClassEmbeds: number | null;
  /** config keys this port does not know; reported, not fatal (newer diffusers versions add keys with neutral defaults) */
  ignoredKeys: string[];
}

export class UnsupportedConfigError extends Error {}

const DOWN_BLOCKS = new Set(["DownBlock2D", "AttnDownBlock2D", "ResnetDownsampleBlock2D", "AttnDownsampleBlock2D"]);
const UP_BLOCKS = new Set(["UpBlock2D", "AttnUpBlock2D", "ResnetUpsampleBlock2D", "AttnUpsampleBlock2D"]);

/** Keys whose value does not change the inference graph, or that are checked elsewhere. */
const KNOWN_KEYS = new Set<string>([
  "sample_size", "in_channels", "out_channels", "center_input_sample", "time_embedding_type", "time_embedding_dim",
  "freq_shift", "flip_sin_to_cos", "down_block_types", "mid_block_type", "up_block_types", "block_out_channels",
  "layers_per_block", "mid_block_scale_factor", "downsample_padding", "downsample_type", "upsample_type", "dropout",
  "act_fn", "attention_head_dim", "norm_num_groups", "attn_norm_num_groups", "norm_eps", "resnet_time_scale_shift",
  "add_attention", "class_embed_type", "num_class_embeds", "num_train_timesteps",
  // present in some configs with a value that must be checked: see below
  "attention_legacy_order",
]);

function fail(message: string): never {
  throw new UnsupportedConfigError(`UNet2DModel config: ${message}`);
}

function positiveInteger(value: unknown, key: string): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < 1) fail(`${key} must be a positive integer, got ${JSON.stringify(value)}`);
  return value;
}

function choice<T extends string>(value: unknown, key: string, allowed: readonly T[]): T {
  if (typeof value !== "string" || !allowed.includes(value as T)) fail(`${key} = ${JSON.stringify(value)} is not supported (supported: ${allowed.join(", ")})`);
  return value as T;
}

/**
 * Validate a parsed config.json object (never evaluated: only its fields are read) and apply diffusers'
 * defaults. Throws UnsupportedConfigError naming the first option this port cannot run.
 */
export function resolveUnet2DConfig(json: unknown): ResolvedUnet2DConfig {
  if (typeof json !== "object" || json === null || Array.isArray(json)) fail("expected a JSON object");
  const c = json as DiffusersUnet2DConfigJson & Record<string, unknown>;
  if (c._class_name !== undefined && c._class_name !== "UNet2DModel") fail(`_class_name is ${JSON.stringify(c._class_name)}, this port runs UNet2DModel only`);

  const timeEmbeddingType = c.time_embedding_type ?? "positional";
  if (timeEmbeddingType !== "positional") fail(`time_embedding_type ${JSON.stringify(timeEmbeddingType)} is not supported (only "positional", the sinusoidal embedding)`);
  if (c.class_embed_type != null) fail(`class_embed_type ${JSON.stringify(c.class_embed_type)} is not supported (only null with num_class_embeds, an nn.Embedding)`);
  const actFn = c.act_fn ?? "silu";
  if (actFn !== "silu" && actFn !== "swish") fail(`act_fn ${JSON.stringify(actFn)} is not supported (only silu/swish)`);
  if (c.attention_legacy_order === true) fail("attention_legacy_order = true is not supported");
  const midBlockType = c.mid_block_type === undefined ? "UNetMidBlock2D" : c.mid_block_type;
  if (midBlockType !== null && midBlockType !== "UNetMidBlock2D") fail(`mid_block_type ${JSON.stringify(midBlockType)} is not supported (only UNetMidBlock2D or null)`);

  const blockOutChannels = c.block_out_channels ?? [224, 448, 672, 896];
  if (!Array.isArray(blockOutChannels) || blockOutChannels.length === 0) fail("block_out_channels must be a non-empty list");
  blockOutChannels.forEach((ch, i) => positiveInteger(ch, `block_out_channels[${i}]`));
  const downTypes = c.down_block_types ?? ["DownBlock2D", "AttnDownBlock2D", "AttnDownBlock2D", "AttnDownBlock2D"];
  const upTypes = c.up_block_types ?? ["AttnUpBlock2D", "AttnUpBlock2D", "AttnUpBlock2D", "UpBlock2D"];
  if (!Array.isArray(downTypes) || !Array.isArray(upTypes)) fail("down_block_types and up_block_types must be lists");
  if (downTypes.length !== upTypes.length) fail(`${downTypes.length} down_block_types but ${upTypes.length} up_block_types`);
  if (downTypes.length !== blockOutChannels.length) fail(`${downTypes.length} down_block_types but ${blockOutChannels.length} block_out_channels`);
  for (const t of downTypes) if (!DOWN_BLOCKS.has(t)) fail(`down block type ${JSON.stringify(t)} is not supported (supported: ${[...DOWN_BLOCKS].join(", ")})`);
  for (const t of upTypes) if (!UP_BLOCKS.has(t)) fail(`up block type ${JSON.stringify(t)} is not supported (supported: ${[...UP_BLOCKS].join(", ")})`);

  const downsampleType = choice(c.downsample_type ?? "conv", "downsample_type", ["conv", "resnet"] as const);
  const upsampleType = choice(c.upsample_type ?? "conv", "upsample_type", ["conv", "resnet"] as const);
  const timeScaleShift = choice(c.resnet_time_scale_shift ?? "default", "resnet_time_scale_shift", ["default", "scale_shift"] as const);
  const downsamplePadding = c.downsample_padding ?? 1;
  if (downsamplePadding !== 0 && downsamplePadding !== 1) fail(`downsample_padding ${downsamplePadding} is not supported (0 or 1)`);

  const layersPerBlock = positiveInteger(c.layers_per_block ?? 2, "layers_per_block");
  const normGroups = positiveInteger(c.norm_num_groups ?? 32, "norm_num_groups");
  const normEps = c.norm_eps ?? 1e-5;
  if (typeof normEps !== "number" || !(normEps > 0)) fail(`norm_eps must be a positive number, got ${JSON.stringify(normEps)}`);
  const attentionHeadDim = c.attention_head_dim === undefined ? 8 : c.attention_head_dim === null ? null : positiveInteger(c.attention_head_dim, "attention_head_dim");
  const attnNormGroups = c.attn_norm_num_groups == null ? null : positiveInteger(c.attn_norm_num_groups, "attn_norm_num_groups");
  const numClassEmbeds = c.num_class_embeds == null ? null : positiveInteger(c.num_class_embeds, "num_class_embeds");
  const inChannels = positiveInteger(c.in_channels ?? 3, "in_channels");
  const outChannels = positiveInteger(c.out_channels ?? 3, "out_channels");
  const timeEmbeddingDim = c.time_embedding_dim == null ? 4 * blockOutChannels[0] : positiveInteger(c.time_embedding_dim, "time_embedding_dim");
  const freqShift = c.freq_shift ?? 0;
  if (typeof freqShift !== "number" || !Number.isFinite(freqShift)) fail(`freq_shift must be a number, got ${JSON.stringify(freqShift)}`);
  const midScale = c.mid_block_scale_factor ?? 1;
  if (typeof midScale !== "number" || !(midScale > 0)) fail(`mid_block_scale_factor must be a positive number, got ${JSON.stringify(midScale)}`);

  let sampleSize: [number, number] | null = null;
  if (c.sample_size != null) {
    sampleSize = Array.isArray(c.sample_size) ? [c.sample_size[0], c.sample_size[1]] : [c.sample_size, c.sample_size];
    sampleSize.forEach((s, i) => positiveInteger(s, `sample_size[${i}]`));
    const factor = 2 ** (blockOutChannels.length - 1);
    if (sampleSize[0] % factor !== 0 || sampleSize[1] % factor !== 0) fail(`sample_size ${sampleSize.join("×")} cannot be halved ${blockOutChannels.length - 1} times`);
  }

  // UNet2DModel.__init__: the down path (get_down_block with add_downsample = not is_final_block).
  const last = blockOutChannels.length - 1;
  const downBlocks: DownBlockPlan[] = downTypes.map((type, i) => {
    const isFinal = i === last;
    // DownBlock2D always resamples with a conv (Downsample2D); ResnetDownsampleBlock2D always with a resnet;
    // AttnDownBlock2D follows downsample_type. AttnDownsampleBlock2D is the name the first version of diffusers'
    // convert_consistency_to_diffusers.py wrote for "AttnDownBlock2D with a resnet downsampler"; current diffusers
    // spells that AttnDownBlock2D + downsample_type "resnet", which is what the hub configs use (doc §1.2).
    const downsample: ResampleKind = isFinal ? "none" : type === "DownBlock2D" ? "conv" : type === "AttnDownBlock2D" ? downsampleType : "resnet";
    return { type, inChannels: i === 0 ? blockOutChannels[0] : blockOutChannels[i - 1], outChannels: blockOutChannels[i], attention: type.startsWith("Attn"), downsample };
  });
  const reversed = [...blockOutChannels].reverse();
  const upBlocks: UpBlockPlan[] = upTypes.map((type, i) => {
    const isFinal = i === last;
    const upsample: ResampleKind = isFinal ? "none" : type === "UpBlock2D" ? "conv" : type === "AttnUpBlock2D" ? upsampleType : "resnet";
    return {
      type,
      inChannels: reversed[Math.min(i + 1, last)],
      prevOutputChannels: i === 0 ? reversed[0] : reversed[i - 1],
      outChannels: reversed[i],
      attention: type.startsWith("Attn"),
      upsample,
    };
  });

  // UNetMidBlock2D: without attn_norm_num_groups its attention has a group norm only for "default" time shift.
  // (The first ImageNet-64 upload lacked this norm by mistake; the pinned revisions set attn_norm_num_groups 32.)
  const midBlock = midBlockType === null ? null : {
    attention: c.add_attention ?? true,
    attentionGroups: attnNormGroups ?? (timeScaleShift === "default" ? normGroups : null),
    scaleFactor: midScale,
  };

  const ignoredKeys = Object.keys(c).filter((k) => !k.startsWith("_") && !KNOWN_KEYS.has(k)).sort();
  return {
    sampleSize, inChannels, outChannels, centerInputSample: c.center_input_sample ?? false,
    timeProjectionDim: blockOutChannels[0], timeEmbeddingDim, flipSinToCos: c.flip_sin_to_cos ?? true, freqShift,
    blockOutChannels: [...blockOutChannels], layersPerBlock, downBlocks, upBlocks, midBlock,
    downsamplePadding, attentionHeadDim, normGroups, normEps, timeScaleShift, numClassEmbeds, ignoredKeys,
  };
}
