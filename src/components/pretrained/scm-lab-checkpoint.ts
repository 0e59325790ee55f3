/**
 * sCM Lab's own image checkpoints through the same streamed-tensor path as the diffusers models: a SmallUNet
 * (nn/unet.ts) saved with writeSafetensors(await net.params.save(), scmLabUnetMetadata(net.config)); the
 * metadata that describes it is in nn/unet-checkpoint-metadata.ts.
 * Tensor names and layouts are the ParameterSet's own (e.g. "enc.16x16.block0.conv0.weight", conv filters
 * [k, k, in, out]), so no mapping or transposition is needed.
 */
import * as tf from "@tensorflow/tfjs";
import type { StreamedTensor } from "../checkpoint/streamed-tensor.js";
import { consistencyFromNetwork, sampleOneStep, sampleTwoStep } from "../trigflow/consistency-sampling.js";
import { forward } from "../nn/network.js";
import { SmallUNet } from "../nn/unet.js";
import { readScmLabUnetConfig, SCM_LAB_UNET_METADATA_KEY, ScmLabCheckpointError } from "../nn/unet-checkpoint-metadata.js";
import { tensorOps } from "../nn/tensor-ops.js";
import { SIGMA_D } from "../trigflow/trigflow.js";
import { seededNormalNoise } from "./cm-sampler.js";

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
