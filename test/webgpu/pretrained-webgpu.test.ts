/**
 * The pretrained-models jobs on TF.js's real WebGPU kernels (Dawn on a software Vulkan driver, see setup.ts):
 * the diffusers fixture loads and samples the same pixels as on the CPU backend; the large-model gate lets an
 * ImageNet-64 config through on WebGPU (where the header check then stops a wrong file before any upload); an
 * out-of-memory error reported by the device's error scope becomes one clear message, and the model stays.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import * as tf from "@tensorflow/tfjs";
import "@tensorflow/tfjs-backend-webgpu";
import { JobControl } from "../../src/components/jobs/job-control.ts";
import { serveJob, type JobReply } from "../../src/components/jobs/serve-job.ts";
import { loadPretrained, type LoadRequest, type LoadedModel } from "../../src/components/pretrained/loader.ts";
import { disposeResidentModel } from "../../src/components/jobs/pretrained-jobs.ts";
import { ConfigMismatchError } from "../../src/components/pretrained/header-check.ts";
import type { JobParams } from "../../src/components/jobs/registry.ts";

const fixture = (name: string) => readFileSync(new URL(`../fixtures/unet2d/${name}`, import.meta.url));
const weights = new Blob([fixture("cm.weights.safetensors")]);
const config = JSON.parse(fixture("cm.config.json").toString("utf8"));
const request = (configJson: unknown): LoadRequest => ({ weights: { kind: "blob", blob: weights, name: "cm.weights.safetensors" }, config: { kind: "json", value: configJson }, label: "cm", twoStep: "cd" });

async function load(req: LoadRequest): Promise<LoadedModel> {
  const loader = loadPretrained(req);
  for (;;) {
    const { value, done } = await loader.next();
    if (done) return value;
  }
}

async function pixelsOn(backend: "cpu" | "webgpu"): Promise<Uint8ClampedArray[]> {
  assert.ok(await tf.setBackend(backend));
  const model = await load(request(config));
  assert.equal(model.info.backend, backend);
  const result = await model.sample({ steps: 2, seed: 9, count: 2, classLabel: 7, twoStep: "cd" });
  model.dispose();
  return [...result.afterFirstStep!, ...result.images].map((image) => image.data);
}

test("the fixture samples the same pixels on WebGPU as on the CPU", async () => {
  const cpu = await pixelsOn("cpu");
  const gpu = await pixelsOn("webgpu");
  let worst = 0;
  cpu.forEach((image, i) => image.forEach((v, j) => (worst = Math.max(worst, Math.abs(v - gpu[i][j])))));
  assert.ok(worst <= 2, `largest pixel difference ${worst} (of 255)`);
});

test("on WebGPU the ImageNet-64 config passes the size gate; the header check stops a wrong file before any upload", async () => {
  assert.ok(await tf.setBackend("webgpu"));
  const imagenet = JSON.parse(fixture("imagenet64-parameter-count.json").toString("utf8")).config;
  const before = tf.memory().numTensors;
  await assert.rejects(load(request(imagenet)), (error: Error) => error instanceof ConfigMismatchError);
  assert.equal(tf.memory().numTensors, before);
});

test("an out-of-memory error in the device's error scope fails the sample with one message; the model stays loaded", async () => {
  assert.ok(await tf.setBackend("webgpu"));
  const replies: JobReply[] = [];
  const post = (r: JobReply) => replies.push(r);
  await serveJob({ type: "start", id: 1, job: "pretrainedLoad", params: request(config) }, post, new JobControl(), 0);
  assert.equal(replies.at(-1)!.type, "done");
  const sampleParams: JobParams<"pretrainedSample"> = { steps: 1, seed: 0, count: 1, classLabel: 0, twoStep: "cd" };
  const device = (tf.backend() as unknown as { device: { popErrorScope(): Promise<unknown> } }).device;
  const popErrorScope = device.popErrorScope.bind(device);
  // Let the real scope close, then report what a failed allocation would.
  device.popErrorScope = async () => (await popErrorScope(), { message: "Not enough memory left." });
  try {
    await serveJob({ type: "start", id: 2, job: "pretrainedSample", params: sampleParams }, post, new JobControl(), 0);
  } finally {
    device.popErrorScope = popErrorScope;
  }
  const failed = replies.at(-1) as { type: string; message: string };
  assert.equal(failed.type, "error");
  assert.match(failed.message, /^the GPU ran out of memory while sampling \(Not enough memory left\.\)/);
  await serveJob({ type: "start", id: 3, job: "pretrainedSample", params: sampleParams }, post, new JobControl(), 0);
  assert.equal(replies.at(-1)!.type, "done", "sampling works again");
  disposeResidentModel();
});
