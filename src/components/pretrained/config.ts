/**
 * A diffusers UNet's config.json from wherever it comes: the hub (a small fetch made before the large one),
 * a file the reader chose next to the weights, or an object already read. Only parsed with JSON.parse, and
 * every failure is one line that names the file.
 */
import { CheckpointFormatError, describeError } from "../checkpoint/errors.js";
import { httpFailure, networkFailure } from "../checkpoint/url-source.js";

export type ConfigSource = { kind: "url"; url: string } | { kind: "blob"; blob: Blob; name: string } | { kind: "json"; value: unknown };

export async function readConfig(source: ConfigSource, { fetch: fetchImpl = globalThis.fetch, signal }: { fetch?: typeof fetch; signal?: AbortSignal } = {}): Promise<Record<string, unknown>> {
  if (source.kind === "json") return asObject(source.value, "the config");
  if (source.kind === "blob") {
    let text: string;
    try {
      text = await source.blob.text();
    } catch (error) {
      throw new CheckpointFormatError(`could not read ${source.name}: ${describeError(error)}`);
    }
    return parseConfig(text, source.name);
  }
  let response: Response;
  try {
    // No Referer: Hugging Face answers some referring hosts with a 404 that lacks CORS headers.
    response = await fetchImpl(source.url, { referrerPolicy: "no-referrer", signal });
  } catch (error) {
    if (signal?.aborted) throw signal.reason;
    throw networkFailure(source.url, error);
  }
  if (!response.ok) {
    response.body?.cancel().catch(() => {});
    throw httpFailure(source.url, response);
  }
  return parseConfig(await response.text(), source.url);
}

/** Parse config text; `name` says which file in the message. */
export function parseConfig(text: string, name: string): Record<string, unknown> {
  const start = text.trimStart().slice(0, 64).toLowerCase();
  if (start.startsWith("<!doctype") || start.startsWith("<html")) throw new CheckpointFormatError(`${name} is an HTML page, not a config.json (an error page? check the address)`);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new CheckpointFormatError(`${name} is not JSON, so it is not a config.json (${describeError(error)})`);
  }
  return asObject(value, name);
}

function asObject(value: unknown, name: string): Record<string, unknown> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) throw new CheckpointFormatError(`${name} is JSON but not an object, so it is not a UNet config.json`);
  return value as Record<string, unknown>;
}
