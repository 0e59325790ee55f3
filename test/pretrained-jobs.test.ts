/**
 * The pretrained-models page's jobs in Node (TF.js CPU backend): load the tiny diffusers fixture and an sCM Lab
 * checkpoint from Blobs, and the fixture from a stand-in Hugging Face server (directly, or through a stand-in
 * Cache Storage); sample 1 and 2 steps; fail with one clear message (and no tensor left behind) on every bad
 * input the page can be given.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import * as tf from "@tensorflow/tfjs";
import { serveJob, type JobReply } from "../src/components/jobs/serve-job.ts";
import { JobControl } from "../src/components/jobs/job-control.ts";
import { loadPretrained, LoadStoppedError, MissingConfigError, type LoadRequest, type LoadedModel } from "../src/components/pretrained/loader.ts";
import { ConfigMismatchError } from "../src/components/pretrained/header-check.ts";
import { disposeResidentModel } from "../src/components/jobs/pretrained-jobs.ts";
import { samplingSigmas, type SampleResult } from "../src/components/pretrained/sampling.ts";
import { SIGMA_MAX, TWO_STEP_SIGMA } from "../src/components/pretrained/models.ts";
import { writeSafetensors } from "../src/components/checkpoint/safetensors.ts";
import { SmallUNet } from "../src/components/nn/unet.ts";
import { scmLabUnetMetadata } from "../src/components/nn/unet-checkpoint-metadata.ts";
import { tinyTrainingCheckpoint } from "./tiny-training-checkpoint.ts";
import { downloadCache, type CacheLike, type CacheStorageLike } from "../src/components/checkpoint/download-cache.ts";

await tf.setBackend("cpu");

const fixture = (name: string) => readFileSync(new URL(`./fixtures/unet2d/${name}`, import.meta.url));
const cmWeights = new Blob([fixture("cm.weights.safetensors")]);
const cmConfig = JSON.parse(fixture("cm.config.json").toString("utf8"));
const imagenetConfig = JSON.parse(fixture("imagenet64-parameter-count.json").toString("utf8")).config;

const request = (weights: Blob, config: unknown, name = "cm.weights.safetensors"): LoadRequest => ({
  weights: { kind: "blob", blob: weights, name },
  config: config === null ? null : { kind: "json", value: config },
  label: name,
  twoStep: "cd",
});

async function load(req: LoadRequest, shouldStop?: () => boolean): Promise<LoadedModel> {
  const loader = loadPretrained(req, { shouldStop, backend: "cpu" });
  for (;;) {
    const { value, done } = await loader.next();
    if (done) return value;
  }
}

async function failure(req: LoadRequest, shouldStop?: () => boolean): Promise<Error> {
  const before = tf.memory().numTensors;
  const error = await load(req, shouldStop).then(
    () => assert.fail("loading should fail"),
    (e: Error) => e,
  );
  assert.equal(tf.memory().numTensors, before, "every partial tensor was disposed");
  return error;
}

const nonBlank = (result: SampleResult) => result.images.every((image) => new Set(image.data.filter((_, i) => i % 4 === 0)).size > 4);

test("the diffusers fixture loads from a Blob with its config and samples 1 and 2 steps", async () => {
  const before = tf.memory().numTensors;
  const model = await load(request(cmWeights, cmConfig));
  assert.equal(model.info.kind, "diffusers");
  assert.equal(model.info.numClasses, 10);
  assert.deepEqual([model.info.height, model.info.width, model.info.channels], [16, 16, 3]);
  assert.equal(model.info.origin, "file");
  const one = await model.sample({ steps: 1, seed: 3, count: 2, classLabel: 4, twoStep: "cd" });
  assert.equal(one.images.length, 2);
  assert.equal(one.images[0].data.length, 16 * 16 * 4);
  assert.ok(nonBlank(one), "images are not blank");
  assert.equal(one.afterFirstStep, null);
  const two = await model.sample({ steps: 2, seed: 3, count: 2, classLabel: 4, twoStep: "cd" });
  assert.deepEqual(two.afterFirstStep!.map((i) => Array.from(i.data)), one.images.map((i) => Array.from(i.data)), "the first of two steps is the 1-step sample");
  assert.notDeepEqual(Array.from(two.images[0].data), Array.from(one.images[0].data));
  assert.deepEqual(two.times.map((s) => s.sigma), samplingSigmas(2, "cd"));
  const again = await model.sample({ steps: 1, seed: 3, count: 2, classLabel: 4, twoStep: "cd" });
  assert.deepEqual(Array.from(again.images[1].data), Array.from(one.images[1].data), "same seed, same images");
  await assert.rejects(model.sample({ steps: 1, seed: 3, count: 1, classLabel: 10, twoStep: "cd" }), /class from 0 to 9/);
  model.dispose();
  assert.equal(tf.memory().numTensors, before);
});

test("an sCM Lab checkpoint is self-describing: no config needed, TrigFlow sampler", async () => {
  const net = new SmallUNet({ resolution: 8, baseChannels: 8, channelMult: [1, 2], attentionResolutions: [4], outputGain: 1, seed: 2 });
  const bytes = writeSafetensors(await net.params.save(), scmLabUnetMetadata(net.config));
  net.dispose();
  const model = await load(request(new Blob([bytes]), null, "scm.safetensors"));
  assert.equal(model.info.kind, "scm-lab");
  assert.equal(model.info.numClasses, null);
  const two = await model.sample({ steps: 2, seed: 1, count: 3, classLabel: null, twoStep: "cd" });
  assert.equal(two.images.length, 3);
  assert.equal(two.afterFirstStep!.length, 3);
  assert.equal(two.times[1].t, 1.1);
  model.dispose();
});

test("bad inputs fail with one clear message and leave no tensor behind", async () => {
  const pickle = new Blob([new Uint8Array([0x80, 0x02, 0x63, 0x6f, 0x6c, 0x6c, 0x65, 0x63, 0x74, 0x69, 0x6f, 0x6e, 0x73])]);
  assert.match((await failure(request(pickle, cmConfig, "model.bin"))).message, /Python pickle/);
  const zip = new Blob([new Uint8Array([0x50, 0x4b, 0x03, 0x04, 0, 0, 0, 0, 0, 0])]);
  assert.match((await failure(request(zip, cmConfig, "model.pt"))).message, /zip checkpoint/);
  const html = new Blob(["<!DOCTYPE html><html><body>Not found</body></html>"]);
  assert.match((await failure(request(html, cmConfig))).message, /HTML page/);
  const whole = fixture("cm.weights.safetensors");
  const truncated = new Blob([whole.subarray(0, Math.floor(whole.length * 0.6))]);
  assert.match((await failure(request(truncated, cmConfig))).message, /truncated/);
  const small = JSON.parse(fixture("small.config.json").toString("utf8"));
  const mismatch = await failure(request(cmWeights, small));
  assert.ok(mismatch instanceof ConfigMismatchError, mismatch.message);
  assert.match(mismatch.message, /does not fit this config\.json/);
  assert.ok((await failure(request(cmWeights, null))) instanceof MissingConfigError);
  // A /cifar10 training checkpoint: said to be one, with what to choose instead, even with a config offered.
  for (const config of [null, cmConfig]) {
    const run = (await failure(request(new Blob([tinyTrainingCheckpoint()]), config, "scm-lab-scd-step7.safetensors"))).message;
    assert.match(run, /^this is an sCM Lab training checkpoint from the \/cifar10 page \(step 7 of the sCD phase\).*"Download model"/);
  }
  const notJson: LoadRequest = { ...request(cmWeights, null), config: { kind: "blob", blob: new Blob(["{ not json"]), name: "config.json" } };
  assert.match((await failure(notJson)).message, /config\.json is not JSON/);
  assert.match((await failure(request(cmWeights, imagenetConfig))).message, /295,899,267 parameters.*only with WebGPU/);
});

test("a network failure says CORS or network, naming the URL", async () => {
  const original = globalThis.fetch;
  globalThis.fetch = async () => {
    throw new TypeError("Failed to fetch");
  };
  try {
    const url = "https://huggingface.co/x/resolve/0/unet/config.json";
    const req: LoadRequest = { ...request(cmWeights, null), config: { kind: "url", url } };
    const error = await failure(req);
    assert.match(error.message, /refused the request from this page \(CORS\) or the network failed/);
    assert.ok(error.message.includes(url));
    const download: LoadRequest = { weights: { kind: "url", url: "https://huggingface.co/x/w.safetensors", keepCopy: false }, config: { kind: "json", value: cmConfig }, label: "x", twoStep: "cd" };
    assert.match((await failure(download)).message, /\(CORS\) or the network failed/);
  } finally {
    globalThis.fetch = original;
  }
});

test("stopping during the load frees what was uploaded", async () => {
  let checks = 0;
  const error = await failure(request(cmWeights, cmConfig), () => ++checks > 5);
  assert.ok(error instanceof LoadStoppedError, error.message);
});

test("the jobs keep the loaded model in the worker between load and sample", async () => {
  const replies: JobReply[] = [];
  const post = (r: JobReply) => replies.push(r);
  await serveJob({ type: "start", id: 1, job: "pretrainedSample", params: { steps: 1, seed: 0, count: 1, classLabel: 0, twoStep: "cd" } }, post, new JobControl(), 0);
  assert.match((replies.at(-1) as { message: string }).message, /no model is loaded/);
  await serveJob({ type: "start", id: 2, job: "pretrainedLoad", params: request(cmWeights, cmConfig) }, post, new JobControl(), 0);
  const loaded = replies.at(-1)!;
  assert.equal(loaded.type, "done", JSON.stringify(loaded));
  assert.ok(replies.some((r) => r.id === 2 && r.type === "progress"), "load progress was posted");
  await serveJob({ type: "start", id: 3, job: "pretrainedSample", params: { steps: 2, seed: 0, count: 2, classLabel: 1, twoStep: "ct" } }, post, new JobControl(), 0);
  const sampled = replies.at(-1) as { type: string; result: SampleResult };
  assert.equal(sampled.type, "done");
  assert.equal(sampled.result.images.length, 2);
  assert.equal(sampled.result.backend, "cpu");
  // A wrong file fails its checks before the resident model is freed: sampling still works afterwards.
  const pickle = new Blob([new Uint8Array([0x80, 0x04, 0x95, 0, 0, 0, 0, 0, 0, 0])]);
  await serveJob({ type: "start", id: 4, job: "pretrainedLoad", params: request(pickle, cmConfig, "model.pt") }, post, new JobControl(), 0);
  assert.match((replies.at(-1) as { message: string }).message, /Python pickle/);
  await serveJob({ type: "start", id: 5, job: "pretrainedSample", params: { steps: 1, seed: 0, count: 1, classLabel: 1, twoStep: "cd" } }, post, new JobControl(), 0);
  assert.equal(replies.at(-1)!.type, "done");
  disposeResidentModel();
});

test("the page's written-out noise levels are the sampler's", () => {
  for (const setting of ["cd", "ct"] as const) assert.deepEqual(samplingSigmas(2, setting), [SIGMA_MAX, TWO_STEP_SIGMA[setting]]);
  assert.deepEqual(samplingSigmas(1, "cd"), [SIGMA_MAX]);
});

/** A server for one file that honours Range like Hugging Face's CDN, counting the requests. */
function serveFile(bytes: Uint8Array): { fetch: typeof fetch; requests: string[] } {
  const requests: string[] = [];
  const fakeFetch = (async (input: RequestInfo | URL, init?: RequestInit) => {
    const range = new Headers(init?.headers).get("range");
    requests.push(`${String(input)} ${range ?? "whole"}`);
    const match = /^bytes=(\d+)-(\d*)$/.exec(range ?? "");
    if (!match) return new Response(bytes.slice(), { status: 200, headers: { "content-length": String(bytes.length) } });
    const start = Number(match[1]);
    const end = match[2] ? Math.min(Number(match[2]) + 1, bytes.length) : bytes.length;
    return new Response(bytes.slice(start, end), { status: 206, headers: { "content-range": `bytes ${start}-${end - 1}/${bytes.length}` } });
  }) as typeof fetch;
  return { fetch: fakeFetch, requests };
}

/** The browser's Cache Storage, in memory: put() reads the whole body. */
function memoryCacheStorage(): CacheStorageLike {
  const entries = new Map<string, { bytes: Uint8Array<ArrayBuffer>; headers: Headers }>();
  const cache: CacheLike = {
    async match(url) {
      const entry = entries.get(url);
      return entry && new Response(entry.bytes, { headers: entry.headers });
    },
    async put(url, response) {
      entries.set(url, { bytes: new Uint8Array(await response.arrayBuffer()), headers: response.headers });
    },
    async keys() {
      return [...entries.keys()].map((url) => new Request(url));
    },
    async delete(url) {
      return entries.delete(url);
    },
  };
  return { open: async () => cache, delete: async () => (entries.clear(), true) };
}

test("a download streams into the model, or through the kept copy, which the next load reads instead", async () => {
  const url = "https://huggingface.co/org/model/resolve/0123abc/unet/diffusion_pytorch_model.safetensors";
  const server = serveFile(new Uint8Array(fixture("cm.weights.safetensors")));
  const original = globalThis.fetch;
  globalThis.fetch = server.fetch;
  const cache = downloadCache(memoryCacheStorage());
  const fromUrl = (keepCopy: boolean): LoadRequest => ({ weights: { kind: "url", url, keepCopy }, config: { kind: "json", value: cmConfig }, label: "cm", twoStep: "cd" });
  const run = async (req: LoadRequest) => {
    const stages = new Set<string>();
    const loader = loadPretrained(req, { backend: "cpu", cache });
    for (;;) {
      const { value, done } = await loader.next();
      if (done) return { model: value, stages };
      stages.add(value.stage);
    }
  };
  try {
    const direct = await run(fromUrl(false));
    assert.equal(direct.model.info.origin, "network");
    assert.deepEqual([...direct.stages], ["download"]);
    assert.equal(direct.model.info.fileBytes, fixture("cm.weights.safetensors").length);
    direct.model.dispose();
    assert.equal((await cache.status() as { files: number }).files, 0, "nothing kept unless asked");

    const kept = await run(fromUrl(true));
    assert.deepEqual([...kept.stages], ["store", "read"]);
    assert.equal(kept.model.info.origin, "browser copy");
    const one = await kept.model.sample({ steps: 1, seed: 1, count: 1, classLabel: 2, twoStep: "cd" });
    kept.model.dispose();
    assert.equal((await cache.status() as { files: number }).files, 1);

    server.requests.length = 0;
    const again = await run(fromUrl(false));
    assert.equal(again.model.info.origin, "browser copy");
    assert.deepEqual(server.requests, [], "the kept copy is read, nothing is downloaded");
    const two = await again.model.sample({ steps: 1, seed: 1, count: 1, classLabel: 2, twoStep: "cd" });
    assert.deepEqual(Array.from(two.images[0].data), Array.from(one.images[0].data));
    again.model.dispose();
  } finally {
    globalThis.fetch = original;
  }
});
