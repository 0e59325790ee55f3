/**
 * sCM Lab's own UNet checkpoints through the streamed-tensor path: save a SmallUNet with its config in the
 * safetensors metadata, stream the tensors back into a new network, and sample it with TrigFlow's 1/2-step sampler.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { SmallUNet } from "../src/components/nn/unet.ts";
import type { UNetConfig } from "../src/components/nn/unet-config.ts";
import { forward } from "../src/components/nn/network.ts";
import { readSafetensors, writeSafetensors } from "../src/components/checkpoint/safetensors.ts";
import type { StreamedTensor } from "../src/components/checkpoint/streamed-tensor.ts";
import { seededNormalNoise } from "../src/components/pretrained/cm-sampler.ts";
import { SIGMA_D, T_MAX } from "../src/components/trigflow/trigflow.ts";
import { loadScmLabUnet, sampleScmLabUnet } from "../src/components/pretrained/scm-lab-checkpoint.ts";
import { SCM_LAB_UNET_METADATA_KEY, readScmLabUnetConfig, scmLabUnetMetadata } from "../src/components/nn/unet-checkpoint-metadata.ts";
import { assertClose } from "./helpers.ts";

await tf.setBackend("cpu");

const tiny: Partial<UNetConfig> = { resolution: 8, baseChannels: 8, channelMult: [1, 2], attentionResolutions: [4], outputGain: 1, seed: 7 };

async function savedCheckpoint(net: SmallUNet): Promise<{ metadata: Record<string, string>; tensors: StreamedTensor[] }> {
  const file = readSafetensors(writeSafetensors(await net.params.save(), scmLabUnetMetadata(net.config)));
  const tensors = Object.entries(file.tensors).map(([name, { shape, data }]) => ({ name, dtype: "F32" as const, shape, values: data }));
  return { metadata: file.metadata, tensors };
}

async function* stream(tensors: StreamedTensor[]): AsyncIterable<StreamedTensor> {
  for (const t of tensors) yield t;
}

test("a saved SmallUNet streams back into an identical network", async () => {
  const original = new SmallUNet(tiny);
  // Move every weight away from the seeded initialisation the loader's fresh network starts from.
  for (const name of original.params.names()) {
    const v = original.params.get(name);
    tf.tidy(() => v.assign(tf.add(tf.mul(v, 1.1), 0.01)));
  }
  const { metadata, tensors } = await savedCheckpoint(original);
  assert.deepEqual(readScmLabUnetConfig(metadata), original.config);
  const loaded = await loadScmLabUnet(metadata, stream(tensors));
  const fresh = new SmallUNet(original.config);
  const u = seededNormalNoise(1)([2, 8, 8, 3]);
  const t = tf.tensor1d([0.3, 1.2]);
  const [a, b, c] = [forward(original, u, t), forward(loaded, u, t), forward(fresh, u, t)];
  assert.deepEqual(Array.from(b.dataSync()), Array.from(a.dataSync()));
  assert.notDeepEqual(Array.from(c.dataSync()), Array.from(a.dataSync()), "the loaded weights, not the initialisation, made the match");
  tf.dispose([u, t, a, b, c]);
  fresh.dispose();
  original.dispose();
  loaded.dispose();
});

test("1-step TrigFlow sample is f(z, t_max) = cos t_max·z − σd sin t_max·F(z/σd, t_max); 2 steps are reproducible per seed", async () => {
  const net = new SmallUNet(tiny);
  const before = tf.memory().numTensors;
  const one = sampleScmLabUnet(net, { steps: 1, count: 2, seed: 5 });
  assert.equal(tf.memory().numTensors, before + 1, "only the sample remains");
  const z = tf.tidy(() => tf.mul(seededNormalNoise(5)([2, 8, 8, 3]), SIGMA_D));
  const F = forward(net, tf.div(z, SIGMA_D), tf.fill([2], T_MAX));
  const expected = tf.sub(tf.mul(z, Math.cos(T_MAX)), tf.mul(F, SIGMA_D * Math.sin(T_MAX)));
  assertClose(one.dataSync(), expected.dataSync(), 1e-6, "1-step sample");
  const two = sampleScmLabUnet(net, { steps: 2, count: 2, seed: 5 });
  const again = sampleScmLabUnet(net, { steps: 2, count: 2, seed: 5 });
  assert.deepEqual(two.shape, [2, 8, 8, 3]);
  assert.deepEqual(Array.from(again.dataSync()), Array.from(two.dataSync()));
  assert.notDeepEqual(Array.from(two.dataSync()), Array.from(one.dataSync()));
  tf.dispose([one, z, F, expected, two, again]);
  net.dispose();
});

test("wrong or incomplete sCM Lab checkpoints fail with one message and leave nothing allocated", async () => {
  const net = new SmallUNet(tiny);
  const { metadata, tensors } = await savedCheckpoint(net);
  net.dispose();
  const before = tf.memory().numTensors;
  await assert.rejects(loadScmLabUnet({}, tensors), /no "scm_lab_unet" entry/);
  const conv = tensors.find((t) => t.name.endsWith("conv0.weight"))!;
  await assert.rejects(
    loadScmLabUnet(metadata, tensors.map((t) => (t === conv ? { ...t, shape: [...t.shape].reverse() } : t))),
    new RegExp(`tensor ${conv.name.replace(/\./g, "\\.")} has shape \\[.*\\], the config expects \\[.*\\]`),
  );
  await assert.rejects(loadScmLabUnet(metadata, tensors.slice(1)), new RegExp(`missing ${tensors[0].name.replace(/\./g, "\\.")}`));
  await assert.rejects(loadScmLabUnet(metadata, [...tensors, { ...conv, name: "extra.weight" }]), /unexpected extra\.weight/);
  assert.equal(tf.memory().numTensors, before);
  const config = JSON.parse(metadata[SCM_LAB_UNET_METADATA_KEY]);
  assert.throws(() => readScmLabUnetConfig({ [SCM_LAB_UNET_METADATA_KEY]: JSON.stringify({ ...config, format: "sCM Lab UNet v9" }) }), /unknown sCM Lab UNet format/);
  assert.throws(() => readScmLabUnetConfig({ [SCM_LAB_UNET_METADATA_KEY]: JSON.stringify({ ...config, config: { ...config.config, baseChannels: "8" } }) }), /"baseChannels" is "8", expected a number/);
  assert.throws(() => readScmLabUnetConfig({ [SCM_LAB_UNET_METADATA_KEY]: JSON.stringify({ ...config, config: { ...config.config, depth: 3 } }) }), /unknown key "depth"/);
});
