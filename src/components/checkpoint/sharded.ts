/**
 * Sharded checkpoints: big models are saved as several safetensors files plus an index,
 * `model.safetensors.index.json` (transformers) or `diffusion_pytorch_model.safetensors.index.json`
 * (diffusers):
 *   {"metadata": {"total_size": 123456}, "weight_map": {"tensor name": "model-00001-of-00002.safetensors", ...}}
 * The index is validated, then each shard is streamed in turn; every shard's header must hold exactly the
 * tensors the index assigns to it, so a mixed-up set of files fails before its data is downloaded.
 */
import type { ByteSource } from "./byte-source.js";
import { CheckpointFormatError, CheckpointSourceError, describeError } from "./errors.js";
import type { SafetensorsHeader } from "./header.js";
import { ProgressMeter } from "./progress.js";
import { recogniseOtherFormat } from "./sniff.js";
import { openSafetensorsStream, readSafetensorsHeader, type StreamOptions } from "./stream-reader.js";
import type { StreamedTensor } from "./streamed-tensor.js";
import { httpFailure, networkFailure, urlSource, type UrlSourceOptions } from "./url-source.js";

export interface ShardIndex {
  /** The index's own metadata, as written (transformers and diffusers write {"total_size": bytes}). */
  metadata: Record<string, unknown>;
  /** Tensor name → shard file name. */
  weightMap: Map<string, string>;
  /** The shard file names, sorted (so "…-00001-of-00003…" comes first), each with its tensor names. */
  shards: { file: string; tensors: string[] }[];
  /** Bytes of tensor data in all shards together, when the index says (`metadata.total_size`). */
  totalDataBytes: number | undefined;
}

/** Shards are named by plain file names next to the index: no folders, no URLs, nothing to escape with. */
const SHARD_FILE_NAME = /^[^/\\?#%:]+\.safetensors$/;

export function parseShardIndex(text: string): ShardIndex {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    const other = recogniseOtherFormat(new TextEncoder().encode(text.slice(0, 64)));
    throw new CheckpointFormatError(`not a sharded-checkpoint index: ${other ?? "it is not JSON"}`);
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    throw new CheckpointFormatError("not a sharded-checkpoint index: it is not a JSON object");
  }
  const { metadata = {}, weight_map: weightMapJson } = parsed as Record<string, unknown>;
  if (typeof metadata !== "object" || metadata === null || Array.isArray(metadata)) {
    throw new CheckpointFormatError("the index's metadata is not a JSON object");
  }
  if (typeof weightMapJson !== "object" || weightMapJson === null || Array.isArray(weightMapJson)) {
    throw new CheckpointFormatError('not a sharded-checkpoint index: it has no "weight_map" object');
  }
  const weightMap = new Map<string, string>();
  const byShard = new Map<string, string[]>();
  for (const [tensor, file] of Object.entries(weightMapJson)) {
    if (typeof file !== "string" || !SHARD_FILE_NAME.test(file) || file.startsWith(".")) {
      throw new CheckpointFormatError(`the index maps tensor "${tensor}" to ${JSON.stringify(file)}, which is not a plain .safetensors file name`);
    }
    weightMap.set(tensor, file);
    byShard.set(file, [...(byShard.get(file) ?? []), tensor]);
  }
  if (weightMap.size === 0) throw new CheckpointFormatError("the index lists no tensors");
  const totalSize = Number((metadata as Record<string, unknown>).total_size);
  return {
    metadata: metadata as Record<string, unknown>,
    weightMap,
    shards: [...byShard.keys()].sort().map((file) => ({ file, tensors: byShard.get(file)! })),
    totalDataBytes: Number.isSafeInteger(totalSize) && totalSize >= 0 ? totalSize : undefined,
  };
}

/** Download and parse an index (a small JSON file), with the same one-line errors as the shards. */
export async function fetchShardIndex(indexUrl: string, options: { fetch?: typeof fetch } = {}): Promise<ShardIndex> {
  const fetchImpl = options.fetch ?? globalThis.fetch.bind(globalThis);
  let response: Response;
  let text: string;
  try {
    response = await fetchImpl(indexUrl, { referrerPolicy: "no-referrer" });
    if (!response.ok) throw httpFailure(indexUrl, response);
    text = await response.text();
  } catch (error) {
    throw error instanceof CheckpointSourceError ? error : networkFailure(indexUrl, error);
  }
  return parseShardIndex(text);
}

/** A shard's URL: its file name resolved against the index's URL (relative ones against the page). */
export function shardUrl(indexUrl: string, file: string): string {
  return new URL(file, new URL(indexUrl, globalThis.location?.href)).href;
}

/** Opens one shard by file name: from the index's URL, a folder, or files the user dropped. */
export type OpenShard = (file: string) => ByteSource | Promise<ByteSource>;

/** Shards next to an index URL. */
export function urlShards(indexUrl: string, options: UrlSourceOptions = {}): OpenShard {
  return (file) => urlSource(shardUrl(indexUrl, file), options);
}

export interface ShardedStreamOptions extends StreamOptions {
  /** Called when a shard's header has been read and checked, before its tensors. */
  onShard?: (shard: { index: number; count: number; file: string; header: SafetensorsHeader }) => void;
}

/**
 * Every tensor of every shard, shard after shard. Progress counts all shards on one meter; its total is the
 * index's total_size plus the headers read so far (exact once the last shard has started).
 */
export async function* streamShardedSafetensors(index: ShardIndex, openShard: OpenShard, options: ShardedStreamOptions = {}): AsyncGenerator<StreamedTensor> {
  const meter = options.meter ?? new ProgressMeter(options.onProgress, options.progress);
  meter.totalBytes = index.totalDataBytes;
  for (const [i, shard] of index.shards.entries()) {
    options.signal?.throwIfAborted();
    const stream = await withShardName(shard.file, async () => {
      const opened = await openSafetensorsStream(await openShard(shard.file), { signal: options.signal, meter });
      try {
        checkShardContents(shard, opened.header, index.weightMap);
      } catch (error) {
        await opened.close();
        throw error;
      }
      return opened;
    });
    if (meter.totalBytes !== undefined) meter.totalBytes += stream.header.dataStart;
    options.onShard?.({ index: i, count: index.shards.length, file: shard.file, header: stream.header });
    const tensors = stream.tensors();
    try {
      for (;;) {
        const next = await withShardName(shard.file, () => tensors.next());
        if (next.done) break;
        yield next.value;
      }
    } finally {
      await tensors.return(undefined); // when our consumer stops early: close this shard's source too
    }
  }
  if (!options.meter) meter.finish();
}

/** Every shard's header (for inspecting a sharded checkpoint without downloading it), checked against the index. */
export async function readShardHeaders(index: ShardIndex, openShard: OpenShard): Promise<Map<string, SafetensorsHeader>> {
  const headers = new Map<string, SafetensorsHeader>();
  for (const shard of index.shards) {
    await withShardName(shard.file, async () => {
      const header = await readSafetensorsHeader(await openShard(shard.file));
      checkShardContents(shard, header, index.weightMap);
      headers.set(shard.file, header);
    });
  }
  return headers;
}

function checkShardContents(shard: ShardIndex["shards"][number], header: SafetensorsHeader, weightMap: Map<string, string>): void {
  for (const { name } of header.tensors) {
    const listed = weightMap.get(name);
    if (listed !== shard.file) {
      throw new CheckpointFormatError(`it holds tensor "${name}", which the index ${listed ? `puts in ${listed}` : "does not list"}`);
    }
  }
  if (header.tensors.length !== shard.tensors.length) {
    const held = new Set(header.tensors.map((t) => t.name));
    const missing = shard.tensors.find((name) => !held.has(name));
    throw new CheckpointFormatError(`the index puts tensor "${missing}" in this shard, but the shard does not hold it`);
  }
}

/** Format errors inside a shard say which shard. */
async function withShardName<T>(file: string, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof CheckpointFormatError) throw new CheckpointFormatError(`${file}: ${describeError(error)}`, { cause: error });
    throw error;
  }
}
