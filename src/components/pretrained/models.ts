/**
 * The pretrained consistency models the pretrained-models page offers for download: OpenAI's ImageNet-64
 * models (Song et al. 2023) in diffusers form, pinned to the revisions that carry the fixed weights (the first
 * upload had a mid-block attention group-norm bug). Facts from docs: checkpoints-and-data.md §1.2; nothing
 * here is fetched at import, so the page can describe the models before anything downloads.
 */

/** Which published few-step setting a model uses: CD's second noise level or CT's (cm-sampler.ts IMAGENET64_TWO_STEP). */
export type TwoStepSetting = "cd" | "ct";

/**
 * The second noise level σ of each two-step setting: cm-sampler.ts's sigmasForTimesteps([22, 0], 40) for CD and
 * ([106, 0], 201) for CT, written out so the page can show them without loading TF.js (a unit test checks
 * them against the sampler). The first step always starts at σmax = 80.
 */
export const TWO_STEP_SIGMA: Record<TwoStepSetting, number> = { cd: 1.3823679566485092, ct: 1.9128436206953614 };
export const SIGMA_MAX = 80;

/** Most images sampled at once. */
export const MAX_BATCH = 8;

export interface KnownModel {
  id: string;
  /** short name for the chooser */
  label: string;
  /** how it was trained, in a few words */
  training: string;
  repository: string;
  revision: string;
  /** the weights file's size as the hub lists it (the exact size is read from the file's header before downloading) */
  listedSize: string;
  twoStep: TwoStepSetting;
}

export const KNOWN_MODELS: readonly KnownModel[] = [
  {
    id: "cd_imagenet64_l2",
    label: "CD, ImageNet 64×64 (L2)",
    training: "consistency distillation from an EDM diffusion model, with the L2 distance",
    repository: "openai/diffusers-cd_imagenet64_l2",
    revision: "5f462e4403fc37b72ec6004e806c71805db22387",
    listedSize: "1.18 GB",
    twoStep: "cd",
  },
  {
    id: "ct_imagenet64",
    label: "CT, ImageNet 64×64",
    training: "consistency training from data alone, no diffusion teacher",
    repository: "openai/diffusers-ct_imagenet64",
    revision: "49a22186f1e0d8de438dfe0bd52418db9689a608",
    listedSize: "1.18 GB",
    twoStep: "ct",
  },
];

export const UNET_CONFIG_PATH = "unet/config.json";
export const UNET_WEIGHTS_PATH = "unet/diffusion_pytorch_model.safetensors";

/** A file of the model at its pinned revision (the /resolve/ address serves the file itself, not an LFS pointer). */
export function modelFileUrl(model: KnownModel, path: string): string {
  return `https://huggingface.co/${model.repository}/resolve/${model.revision}/${path}`;
}

/** The repository's page at the pinned revision, for a link. */
export function modelPageUrl(model: KnownModel): string {
  return `https://huggingface.co/${model.repository}/tree/${model.revision}`;
}

/**
 * Above this many parameters a model is loaded only on WebGPU. The ImageNet-64 models (≈296 M parameters,
 * 1.18 GB of float32) would need the weights as WebGL textures or, on the CPU backend, a forward pass in
 * JavaScript; neither path has been tried with them, so the page does not offer it. sCM Lab's own and
 * test checkpoints are far below the limit.
 */
export const LARGE_MODEL_PARAMETERS = 20_000_000;
