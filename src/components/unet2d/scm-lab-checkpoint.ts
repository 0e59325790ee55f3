/**
 * sCM Lab's own image checkpoints through the same streamed-tensor path as the diffusers models: a SmallUNet
 * (nn/unet.ts) saved with writeSafetensors(await net.params.save(), scmLabUnetMetadata(net.config)).
 *
 * Metadata key (defined here; the toy MLP runs use "run"): "scm_lab_unet" holds
 *   JSON {"format": "sCM Lab UNet v1", "config": <the complete UNetConfig>}.
 * Tensor names and layouts are the ParameterSet's own (e.g. "enc.16x16.block0.conv0.weight", conv filters
 * [k, k, in, out]), so no mapping or transposition is needed.
 */
import * as tf from "@tensorflow/tfjs";
import type { StreamedTensor } from "../checkpoint/streamed-tensor.js";
import { consistencyFromNetwork, sampleOneStep, sampleTwoStep } from "../consistency-sampling.js";
import { forward } from "../nn/network.js";
import { DEFAULT_UNET_CONFIG, SmallUNet, type UNetConfig } from "../nn/unet.js";
import { tensorOps } from "../tensor-ops.js";
import { SIGMA_D } from "../trigflow.js";
import { seededNormalNoise } from "../cm-sampler.js";

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

/**
 * Build the SmallUNet described by the metadata and assign each streamed tensor as it arrives (shape checked
 * against the network's own parameter). Missing or unexpected tensors fail with one message; on any failure
 * the network is disposed.
 */
export async function loadScmLabUnet(metadata: Record<string, string>, tensors: Iterable<StreamedTensor> | AsyncIterable<StreamedTensor>): Promise<SmallUNet> {
  const config = readScmLabUnetConfig(metadata);
  if (!config) throw new ScmLabCheckpointError(`not an sCM Lab UNet checkpoint: its metadata has no "${SCM_LAB_UNET_METADATA_KEY}" entry`);
  const net = new SmallUNet(config);
  try {
    const expected = new Set(net.params.names());
    const seen = new Set<string>();
    const unexpected: string[] = [];
    for await (const t of tensors) {
      if (!expected.has(t.name)) {
        unexpected.push(t.name);
        continue;
      }
      if (seen.has(t.name)) throw new ScmLabCheckpointError(`tensor ${t.name} arrives twice`);
      const variable = net.params.get(t.name);
      if (!tf.util.arraysEqual(t.shape, variable.shape)) throw new ScmLabCheckpointError(`tensor ${t.name} has shape [${t.shape.join(", ")}], the config expects [${variable.shape.join(", ")}]`);
      tf.tidy(() => variable.assign(tf.tensor(t.values, t.shape, "float32")));
      seen.add(t.name);
    }
    const missing = [...expected].filter((name) => !seen.has(name));
    if (missing.length > 0 || unexpected.length > 0) {
      const parts = [missing.length > 0 ? `missing ${missing.slice(0, 5).join(", ")}${missing.length > 5 ? ` (${missing.length} in all)` : ""}` : "", unexpected.length > 0 ? `unexpected ${unexpected.slice(0, 5).join(", ")}${unexpected.length > 5 ? ` (${unexpected.length} in all)` : ""}` : ""];
      throw new ScmLabCheckpointError(`the checkpoint does not fit its config: ${parts.filter(Boolean).join("; ")}`);
    }
    return net;
  } catch (error) {
    net.dispose();
    throw error;
  }
}

/**
 * TrigFlow consistency sampling of a SmallUNet (consistency-sampling.ts): z ~ N(0, σd² I) from the seeded
 * generator, x0 = f(z, t_max); with two steps, re-noise to the paper's t_mid = 1.1 with fresh noise and apply f
 * again. Returns NHWC images in the data range (≈ [−1, 1]), not clipped.
 */
export function sampleScmLabUnet(net: SmallUNet, { steps, count, seed }: { steps: 1 | 2; count: number; seed: number }): tf.Tensor4D {
  const { resolution, inChannels } = net.config;
  const shape: [number, number, number, number] = [count, resolution, resolution, inChannels];
  const draw = seededNormalNoise(seed);
  return tf.tidy(() => {
    const noise = () => tf.mul(draw(shape), SIGMA_D) as tf.Tensor4D;
    const network = (u: tf.Tensor, t: number) => forward(net, u, tf.fill([count], t));
    const f = consistencyFromNetwork(tensorOps, network, SIGMA_D);
    const z = noise();
    return (steps === 1 ? sampleOneStep(tensorOps, f, z) : sampleTwoStep(tensorOps, f, z, noise)) as tf.Tensor4D;
  });
}
