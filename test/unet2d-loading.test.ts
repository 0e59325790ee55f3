/**
 * Loading a diffusers UNet2DModel checkpoint tensor by tensor: the name mapping, shape checks, missing and
 * unexpected weights, cleanup after failures, config validation, and the parameter count of the real
 * ImageNet-64 consistency models computed from the config alone.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { UNet2DModel, unet2DParameterCount } from "../src/components/pretrained/unet2d/model.ts";
import { resolveUnet2DConfig, UnsupportedConfigError } from "../src/components/pretrained/unet2d/config.ts";
import { canonicalWeightName, torchConvToHwio, WeightLoadError } from "../src/components/pretrained/unet2d/weights.ts";
import type { StreamedTensor } from "../src/components/checkpoint/streamed-tensor.ts";
import { readImagenet64Count, readUnetFixture } from "./fixtures/unet2d/fixtures.ts";

await tf.setBackend("cpu");

const fixture = readUnetFixture("cm");

/** Feed tensors one by one; returns the error thrown by accept or finish. */
async function loadExpectingFailure(tensors: StreamedTensor[]): Promise<Error> {
  const model = new UNet2DModel(fixture.config);
  try {
    await model.load(tensors);
  } catch (error) {
    return error as Error;
  }
  model.dispose();
  throw new Error("the load was expected to fail");
}

test("a transposed conv weight is refused at once with both shapes, and everything uploaded so far is freed", async () => {
  const before = tf.memory().numTensors;
  // conv_shortcut of the first attention level: [12, 8, 1, 1]; transposing [out, in] gives [8, 12, 1, 1]
  const victim = "down_blocks.1.resnets.0.conv_shortcut.weight";
  const tensors = fixture.weights.map((t) => (t.name === victim ? { ...t, shape: [t.shape[1], t.shape[0], 1, 1] } : t));
  const error = await loadExpectingFailure(tensors);
  assert.ok(error instanceof WeightLoadError);
  assert.equal(error.message, `tensor ${victim} has shape [8, 12, 1, 1], the config expects [12, 8, 1, 1]`);
  assert.equal(tf.memory().numTensors, before);
});

test("a transposed linear weight is refused the same way", async () => {
  const victim = "time_embedding.linear_1.weight";
  const error = await loadExpectingFailure(fixture.weights.map((t) => (t.name === victim ? { ...t, shape: [...t.shape].reverse() } : t)));
  assert.match(error.message, /^tensor time_embedding\.linear_1\.weight has shape \[8, 32\], the config expects \[32, 8\]$/);
});

test("a misnamed weight is reported as missing under its real name and unexpected under its wrong one", async () => {
  const before = tf.memory().numTensors;
  const error = await loadExpectingFailure(fixture.weights.map((t) => (t.name === "conv_in.weight" ? { ...t, name: "conv_input.weight" } : t)));
  assert.ok(error instanceof WeightLoadError);
  assert.match(error.message, /1 weight\(s\) missing: conv_in\.weight/);
  assert.match(error.message, /1 unexpected weight\(s\) the config does not declare: conv_input\.weight/);
  assert.equal(tf.memory().numTensors, before, "a failed finish frees every uploaded tensor");
});

test("missing weights are listed (the first few and the total)", async () => {
  const withoutMid = fixture.weights.filter((t) => !t.name.startsWith("mid_block."));
  const error = await loadExpectingFailure(withoutMid);
  const count = fixture.weights.length - withoutMid.length;
  assert.match(error.message, new RegExp(`${count} weight\\(s\\) missing: mid_block\\.resnets\\.0\\.norm1\\.weight, .*\\(${count} in all\\)`));
});

test("a tensor that arrives twice (under its new and its old attention name) is refused", async () => {
  const q = fixture.weights.find((t) => t.name === "mid_block.attentions.0.to_q.weight")!;
  const error = await loadExpectingFailure([...fixture.weights, { ...q, name: "mid_block.attentions.0.query.weight" }]);
  assert.match(error.message, /mid_block\.attentions\.0\.to_q\.weight arrives twice \(as "mid_block\.attentions\.0\.to_q\.weight" and "mid_block\.attentions\.0\.query\.weight"\)/);
});

test("values that do not fill the shape are refused; a failed model refuses further tensors and cannot run", async () => {
  const model = new UNet2DModel(fixture.config);
  const first = fixture.weights[0];
  model.acceptTensor(fixture.weights[1]);
  assert.throws(() => model.acceptTensor({ ...first, values: first.values.subarray(1) }), /holds \d+ values, its shape \[.*\] needs \d+/);
  assert.throws(() => model.acceptTensor(fixture.weights[2]), /loading already failed/);
  const input = tf.zeros([1, 16, 16, 3]) as tf.Tensor4D;
  assert.throws(() => model.forward(input, 0, [0]), /not loaded/);
  input.dispose();
  model.dispose();
});

test("old attention names map to diffusers' current ones; other names pass through", () => {
  assert.equal(canonicalWeightName("up_blocks.0.attentions.2.query.weight"), "up_blocks.0.attentions.2.to_q.weight");
  assert.equal(canonicalWeightName("mid_block.attentions.0.proj_attn.bias"), "mid_block.attentions.0.to_out.0.bias");
  assert.equal(canonicalWeightName("down_blocks.1.attentions.0.value.weight"), "down_blocks.1.attentions.0.to_v.weight");
  assert.equal(canonicalWeightName("down_blocks.1.resnets.0.conv1.weight"), "down_blocks.1.resnets.0.conv1.weight");
  assert.equal(canonicalWeightName("query.weight"), "query.weight");
});

test("conv weights go from PyTorch [out, in, kh, kw] to TF.js [kh, kw, in, out]", () => {
  const shape = [2, 3, 2, 2];
  const torch = Float32Array.from({ length: 24 }, (_, i) => i);
  const hwio = tf.tensor(torchConvToHwio(torch, shape), [2, 2, 3, 2]);
  const expected = tf.transpose(tf.tensor(torch, shape), [2, 3, 1, 0]);
  assert.deepEqual(Array.from(hwio.dataSync()), Array.from(expected.dataSync()));
  tf.dispose([hwio, expected]);
});

test("unsupported config options fail before any download, naming the option", () => {
  const base = fixture.config;
  const cases: [Record<string, unknown>, RegExp][] = [
    [{ time_embedding_type: "fourier" }, /time_embedding_type "fourier" is not supported/],
    [{ resnet_time_scale_shift: "spatial" }, /resnet_time_scale_shift = "spatial" is not supported/],
    [{ down_block_types: ["CrossAttnDownBlock2D", "AttnDownBlock2D", "AttnDownBlock2D"] }, /down block type "CrossAttnDownBlock2D" is not supported/],
    [{ up_block_types: ["AttnUpBlock2D", "SkipUpBlock2D", "UpBlock2D"] }, /up block type "SkipUpBlock2D" is not supported/],
    [{ block_out_channels: [8, 12] }, /3 down_block_types but 2 block_out_channels/],
    [{ class_embed_type: "timestep" }, /class_embed_type "timestep" is not supported/],
    [{ act_fn: "gelu" }, /act_fn "gelu" is not supported/],
    [{ _class_name: "UNet2DConditionModel" }, /this port runs UNet2DModel only/],
    [{ sample_size: 18 }, /sample_size 18×18 cannot be halved 2 times/],
    [{ downsample_type: "fir" }, /downsample_type = "fir" is not supported/],
  ];
  for (const [change, message] of cases) {
    assert.throws(() => new UNet2DModel({ ...base, ...change }), (e: unknown) => e instanceof UnsupportedConfigError && message.test(e.message), JSON.stringify(change));
  }
  assert.throws(() => new UNet2DModel({ ...base, norm_num_groups: 5 }), /GroupNorm down_blocks\.0\.resnets\.0\.norm1: 8 channels cannot form 5 groups/);
});

test("config resolution follows diffusers: resampler kinds per block type, mid-block attention norm, skip channels", () => {
  const c = resolveUnet2DConfig(fixture.config);
  assert.deepEqual(c.downBlocks.map((b) => b.downsample), ["resnet", "resnet", "none"]);
  assert.deepEqual(c.upBlocks.map((b) => b.upsample), ["resnet", "resnet", "none"]);
  assert.deepEqual(c.upBlocks.map((b) => [b.prevOutputChannels, b.inChannels, b.outChannels]), [[12, 12, 12], [12, 8, 12], [12, 8, 8]]);
  assert.equal(c.midBlock?.attentionGroups, 4);
  // DownBlock2D/UpBlock2D always resample with convolutions; "scale_shift" without attn_norm_num_groups drops the mid-block attention norm
  const plain = resolveUnet2DConfig({ ...fixture.config, down_block_types: ["DownBlock2D", "AttnDownBlock2D", "AttnDownsampleBlock2D"], up_block_types: ["AttnUpsampleBlock2D", "UpBlock2D", "UpBlock2D"], attn_norm_num_groups: null, futuristic_option: 1 });
  assert.deepEqual(plain.downBlocks.map((b) => b.downsample), ["conv", "resnet", "none"]);
  assert.deepEqual(plain.upBlocks.map((b) => b.upsample), ["resnet", "conv", "none"]);
  assert.equal(plain.midBlock?.attentionGroups, null);
  assert.deepEqual(plain.ignoredKeys, ["futuristic_option"]);
});

/**
 * openai/diffusers-cd_imagenet64_l2 and diffusers-ct_imagenet64, unet/config.json as read in
 * docs/checkpoints-and-data.md §1.2 (pinned revisions).
 */
const IMAGENET64_CM_CONFIG = {
  _class_name: "UNet2DModel",
  sample_size: 64,
  in_channels: 3,
  out_channels: 3,
  layers_per_block: 3,
  block_out_channels: [192, 384, 576, 768],
  down_block_types: ["ResnetDownsampleBlock2D", "AttnDownBlock2D", "AttnDownBlock2D", "AttnDownBlock2D"],
  up_block_types: ["AttnUpBlock2D", "AttnUpBlock2D", "AttnUpBlock2D", "ResnetUpsampleBlock2D"],
  downsample_type: "resnet",
  upsample_type: "resnet",
  attention_head_dim: 64,
  attn_norm_num_groups: 32,
  norm_num_groups: 32,
  norm_eps: 1e-5,
  act_fn: "silu",
  resnet_time_scale_shift: "scale_shift",
  time_embedding_type: "positional",
  flip_sin_to_cos: true,
  freq_shift: 0,
  num_class_embeds: 1000,
  mid_block_scale_factor: 1,
  center_input_sample: false,
  add_attention: true,
};

test("ImageNet-64 CM config: 295,899,267 parameters in 629 tensors from the config alone, nothing allocated", () => {
  const before = tf.memory();
  const model = new UNet2DModel(IMAGENET64_CM_CONFIG);
  const reference = readImagenet64Count();
  assert.deepEqual(reference.config, IMAGENET64_CM_CONFIG, "the PyTorch count was made for the same config");
  // Independent count: the PyTorch re-implementation instantiated with this config.
  assert.equal(model.parameterCount, reference.parameter_count);
  assert.equal(model.parameterCount, 295_899_267);
  assert.equal(model.weightSpecs().length, reference.tensor_count);
  // The hub's fp32 safetensors file is 1.18 GB (doc §1.1): 4 bytes a parameter plus a small JSON header.
  assert.ok(Math.abs(4 * model.parameterCount - 1.18e9) < 0.005e9, `${4 * model.parameterCount} bytes`);
  assert.equal(unet2DParameterCount(IMAGENET64_CM_CONFIG), model.parameterCount);
  const after = tf.memory();
  assert.equal(after.numTensors, before.numTensors);
  assert.equal(after.numBytes, before.numBytes);
  // Attention at 32×32, 16×16 and 8×8 with 64-channel heads, as the original --attention_resolutions 32,16,8
  const specs = new Map(model.weightSpecs().map((s) => [s.name, s.shape]));
  assert.deepEqual(specs.get("down_blocks.1.attentions.0.to_q.weight"), [384, 384]);
  assert.deepEqual(specs.get("mid_block.attentions.0.group_norm.weight"), [768]);
  assert.deepEqual(specs.get("down_blocks.0.downsamplers.0.time_emb_proj.weight"), [384, 768]);
  assert.deepEqual(specs.get("up_blocks.3.resnets.0.conv1.weight"), [192, 576, 3, 3]);
  assert.deepEqual(specs.get("class_embedding.weight"), [1000, 768]);
  assert.equal(specs.has("down_blocks.0.attentions.0.to_q.weight"), false, "no attention at 64×64");
  model.dispose();
});
