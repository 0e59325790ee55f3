/**
 * The safetensors metadata of sCM Lab's own UNet checkpoints (a SmallUNet of nn/unet.ts), without TF.js, so
 * that pages can recognise and describe a file on their main thread.
 *
 * Metadata key (the toy MLP runs use "run"): "scm_lab_unet" holds
 *   JSON {"format": "sCM Lab UNet v1", "config": <the complete UNetConfig>}.
 */
import { DEFAULT_UNET_CONFIG, type UNetConfig } from "./unet-config.js";

export const SCM_LAB_UNET_METADATA_KEY = "scm_lab_unet";
export const SCM_LAB_UNET_FORMAT = "sCM Lab UNet v1";

export class ScmLabCheckpointError extends Error {}

/** The safetensors metadata that makes a SmallUNet checkpoint self-describing. */
export function scmLabUnetMetadata(config: UNetConfig): Record<string, string> {
  return { [SCM_LAB_UNET_METADATA_KEY]: JSON.stringify({ format: SCM_LAB_UNET_FORMAT, config }) };
}

/**
 * The UNetConfig stored in a checkpoint's metadata, or null if the file is not an sCM Lab UNet. Every key of
 * UNetConfig must be present with the type of its default; unknown keys are refused (a newer format).
 */
export function readScmLabUnetConfig(metadata: Record<string, string>): UNetConfig | null {
  const raw = metadata[SCM_LAB_UNET_METADATA_KEY];
  if (raw === undefined) return null;
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    throw new ScmLabCheckpointError(`metadata "${SCM_LAB_UNET_METADATA_KEY}" is not JSON`);
  }
  const { format, config } = (parsed ?? {}) as { format?: unknown; config?: unknown };
  if (format !== SCM_LAB_UNET_FORMAT) throw new ScmLabCheckpointError(`unknown sCM Lab UNet format ${JSON.stringify(format)} (this version reads "${SCM_LAB_UNET_FORMAT}")`);
  if (typeof config !== "object" || config === null || Array.isArray(config)) throw new ScmLabCheckpointError("the sCM Lab UNet metadata has no config object");
  const record = config as Record<string, unknown>;
  const defaults = DEFAULT_UNET_CONFIG as unknown as Record<string, unknown>;
  for (const key of Object.keys(record)) if (!(key in defaults)) throw new ScmLabCheckpointError(`the UNet config has an unknown key "${key}"`);
  for (const [key, value] of Object.entries(defaults)) {
    const stored = record[key];
    const sameKind = Array.isArray(value) ? Array.isArray(stored) : typeof stored === typeof value && stored !== null;
    if (!sameKind) throw new ScmLabCheckpointError(`the UNet config's "${key}" is ${JSON.stringify(stored)}, expected a ${Array.isArray(value) ? "list" : typeof value}`);
  }
  return record as unknown as UNetConfig;
}
