/**
 * Streamed checkpoint loading for pages, workers and Node: everything in this folder except the Node-only
 * file source (import "./node-file-source.js" directly in Node scripts).
 */
export type { StreamedDtype, StreamedTensor } from "./streamed-tensor.js";
export { CheckpointConsumerError, CheckpointFormatError, CheckpointSourceError, describeError } from "./errors.js";
export { DTYPE_BYTES, bfloat16ToFloat, halfToFloat, isDecodableDtype, isKnownDtype, type SafetensorsDtype } from "./dtypes.js";
export { checkDataLength, elementCount, parseSafetensorsHeader, type SafetensorsHeader, type TensorEntry } from "./header.js";
export { MAX_HEADER_BYTES, checkSafetensorsPrefix, recogniseOtherFormat } from "./sniff.js";
export { encodeSafetensors, layoutSafetensors, type SafetensorsLayout, type TensorSpec } from "./layout.js";
export type { ByteSource } from "./byte-source.js";
export { blobSource } from "./blob-source.js";
export { urlSource, type UrlSourceOptions } from "./url-source.js";
export { ProgressMeter, type DownloadProgress, type ProgressCallback } from "./progress.js";
export {
  HEADER_PROBE_BYTES,
  consumeTensors,
  openSafetensorsStream,
  readSafetensorsHeader,
  streamSafetensors,
  type SafetensorsStream,
  type StreamOptions,
  type StreamStats,
} from "./stream-reader.js";
export {
  fetchShardIndex,
  parseShardIndex,
  readShardHeaders,
  shardUrl,
  streamShardedSafetensors,
  urlShards,
  type OpenShard,
  type ShardIndex,
  type ShardedStreamOptions,
} from "./sharded.js";
export { CHECKPOINT_CACHE_NAME, downloadCache, type CacheStatus, type DownloadCache } from "./download-cache.js";
