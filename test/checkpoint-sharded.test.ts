/** Sharded checkpoints: the index is validated, shards stream in order, and each must hold what the index says. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { blobSource } from "../src/components/checkpoint/blob-source.ts";
import type { ByteSource } from "../src/components/checkpoint/byte-source.ts";
import { CheckpointFormatError } from "../src/components/checkpoint/errors.ts";
import type { DownloadProgress } from "../src/components/checkpoint/progress.ts";
import { parseShardIndex, readShardHeaders, shardUrl, streamShardedSafetensors, type OpenShard } from "../src/components/checkpoint/sharded.ts";
import type { StreamedTensor } from "../src/components/checkpoint/streamed-tensor.ts";
import { writeSafetensors } from "../src/components/checkpoint/safetensors.ts";

const SHARD_1 = "diffusion_pytorch_model-00001-of-00002.safetensors";
const SHARD_2 = "diffusion_pytorch_model-00002-of-00002.safetensors";

const shardFiles: Record<string, Uint8Array<ArrayBuffer>> = {
  [SHARD_1]: writeSafetensors({ "conv_in.weight": { shape: [2, 2], data: Float32Array.of(1, 2, 3, 4) }, "conv_in.bias": { shape: [2], data: Float32Array.of(5, 6) } }),
  [SHARD_2]: writeSafetensors({ "conv_out.weight": { shape: [1], data: Float32Array.of(7) } }),
};
const weightMap = { "conv_out.weight": SHARD_2, "conv_in.weight": SHARD_1, "conv_in.bias": SHARD_1 };
const dataBytes = 4 * 7;
const indexText = JSON.stringify({ metadata: { total_size: dataBytes }, weight_map: weightMap });

/** Opens shards from memory and remembers which were opened and closed. */
function memoryShards(files: Record<string, Uint8Array<ArrayBuffer>>) {
  const opened: string[] = [];
  const closed: string[] = [];
  const open: OpenShard = (file) => {
    opened.push(file);
    const source = blobSource(new Blob([files[file]]), file);
    return { ...source, size: source.size, close: async () => void closed.push(file) } satisfies ByteSource;
  };
  return { open, opened, closed };
}

async function collect(tensors: AsyncIterable<StreamedTensor>): Promise<StreamedTensor[]> {
  const out: StreamedTensor[] = [];
  for await (const tensor of tensors) out.push(tensor);
  return out;
}

test("the index is parsed: shards sorted, tensors listed per shard, total size", () => {
  const index = parseShardIndex(indexText);
  assert.deepEqual(index.shards, [
    { file: SHARD_1, tensors: ["conv_in.weight", "conv_in.bias"] },
    { file: SHARD_2, tensors: ["conv_out.weight"] },
  ]);
  assert.equal(index.weightMap.get("conv_out.weight"), SHARD_2);
  assert.equal(index.totalDataBytes, dataBytes);
  assert.equal(parseShardIndex(JSON.stringify({ weight_map: weightMap })).totalDataBytes, undefined);
});

test("bad indexes are refused in one line", () => {
  const cases: [string, RegExp][] = [
    ["{not json", /not a sharded-checkpoint index: it is not JSON/],
    ["<!DOCTYPE html><html></html>", /not a sharded-checkpoint index: this is an HTML page/],
    ["[1, 2]", /not a JSON object/],
    ['{"metadata": {}}', /it has no "weight_map" object/],
    ['{"weight_map": {}}', /the index lists no tensors/],
    ['{"weight_map": {"w": 3}}', /maps tensor "w" to 3, which is not a plain \.safetensors file name/],
    ['{"weight_map": {"w": "../../secrets.safetensors"}}', /not a plain \.safetensors file name/],
    ['{"weight_map": {"w": "https://elsewhere.example/x.safetensors"}}', /not a plain/],
    ['{"weight_map": {"w": "model.bin"}}', /not a plain/],
    ['{"metadata": 5, "weight_map": {"w": "a.safetensors"}}', /metadata is not a JSON object/],
  ];
  for (const [text, message] of cases) assert.throws(() => parseShardIndex(text), (e: Error) => e instanceof CheckpointFormatError && message.test(e.message) && !e.message.includes("\n"), text);
});

test("shards stream in order, every tensor once, with progress over all shards", async () => {
  const shards = memoryShards(shardFiles);
  const reports: DownloadProgress[] = [];
  const announced: string[] = [];
  const tensors = await collect(
    streamShardedSafetensors(parseShardIndex(indexText), shards.open, {
      onProgress: (p) => reports.push(p),
      progress: { intervalMs: 0 },
      onShard: ({ index, count, file }) => announced.push(`${index + 1}/${count} ${file}`),
    }),
  );
  assert.deepEqual(
    tensors.map((t) => [t.name, [...t.values]]),
    [["conv_in.bias", [5, 6]], ["conv_in.weight", [1, 2, 3, 4]], ["conv_out.weight", [7]]],
  );
  assert.deepEqual(announced, [`1/2 ${SHARD_1}`, `2/2 ${SHARD_2}`]);
  assert.deepEqual(shards.closed, [SHARD_1, SHARD_2]);
  const fileBytes = shardFiles[SHARD_1].length + shardFiles[SHARD_2].length;
  const last = reports.at(-1)!;
  assert.equal(last.receivedBytes, fileBytes);
  assert.equal(last.totalBytes, fileBytes, "total_size plus the shards' headers");
});

test("a shard that does not hold what the index says is refused before its data is read", async () => {
  const wrongIndex = JSON.stringify({ weight_map: { ...weightMap, "conv_in.bias": SHARD_2 } });
  const shards = memoryShards(shardFiles);
  await assert.rejects(collect(streamShardedSafetensors(parseShardIndex(wrongIndex), shards.open)), (e: Error) => {
    assert.ok(e instanceof CheckpointFormatError);
    assert.equal(e.message, `${SHARD_1}: it holds tensor "conv_in.bias", which the index puts in ${SHARD_2}`);
    return true;
  });
  assert.deepEqual(shards.closed, [SHARD_1]);

  const missing = JSON.stringify({ weight_map: { ...weightMap, "norm.weight": SHARD_2 } });
  await assert.rejects(readShardHeaders(parseShardIndex(missing), memoryShards(shardFiles).open), new RegExp(`${SHARD_2}: the index puts tensor "norm.weight" in this shard, but the shard does not hold it`));
});

test("format errors inside a shard name the shard", async () => {
  const broken = { ...shardFiles, [SHARD_2]: new TextEncoder().encode("<!DOCTYPE html><title>500</title>") };
  await assert.rejects(collect(streamShardedSafetensors(parseShardIndex(indexText), memoryShards(broken).open)), new RegExp(`^CheckpointFormatError: ${SHARD_2}: not a safetensors file: this is an HTML page`));
});

test("stopping early closes the shard being read and opens no more", async () => {
  const shards = memoryShards(shardFiles);
  for await (const tensor of streamShardedSafetensors(parseShardIndex(indexText), shards.open)) {
    assert.equal(tensor.name, "conv_in.bias");
    break;
  }
  assert.deepEqual(shards.opened, [SHARD_1]);
  assert.deepEqual(shards.closed, [SHARD_1]);
});

test("readShardHeaders reads every shard's header", async () => {
  const headers = await readShardHeaders(parseShardIndex(indexText), memoryShards(shardFiles).open);
  assert.deepEqual([...headers.keys()], [SHARD_1, SHARD_2]);
  assert.equal(headers.get(SHARD_2)!.tensors[0].name, "conv_out.weight");
});

test("shard URLs are resolved next to the index", () => {
  const index = "https://huggingface.co/org/model/resolve/0123abc/unet/diffusion_pytorch_model.safetensors.index.json";
  assert.equal(shardUrl(index, SHARD_1), `https://huggingface.co/org/model/resolve/0123abc/unet/${SHARD_1}`);
});
