/**
 * Pretrained UNets for the checkpoints page: diffusers' UNet2DModel in TF.js (OpenAI's ImageNet-64 consistency
 * models) and sCM Lab's own SmallUNet, both loaded from streamed safetensors tensors. The consistency-model
 * sampler lives in ../cm-sampler.ts.
 */
export { UNet2DModel, unet2DParameterCount } from "./model.js";
export { resolveUnet2DConfig, UnsupportedConfigError, type DiffusersUnet2DConfigJson, type ResolvedUnet2DConfig } from "./config.js";
export { WeightLoadError, canonicalWeightName, type WeightSpec } from "./weights.js";
export {
  SCM_LAB_UNET_FORMAT, SCM_LAB_UNET_METADATA_KEY, ScmLabCheckpointError, loadScmLabUnet, readScmLabUnetConfig, sampleScmLabUnet, scmLabUnetMetadata,
} from "./scm-lab-checkpoint.js";
