/**
 * npm run inspect -- <file.safetensors | URL | *.safetensors.index.json>
 *
 * Prints a checkpoint's metadata, a table of its tensors (name, dtype, shape), the tensor count, the number
 * of parameters and the size. Only headers are read: for a URL, the first bytes of the file (one Range
 * request), so inspecting a 1.18 GB checkpoint downloads about 64 kB. A sharded checkpoint's index lists
 * every shard. On a bad file, one line on stderr and exit code 1.
 */
import { dirname, join } from "node:path";
import { readFile } from "node:fs/promises";
import { pathToFileURL } from "node:url";
import { parseCommandLineAndArguments } from "../options.ts";
import type { ByteSource } from "../../src/components/checkpoint/byte-source.ts";
import { DTYPE_BYTES } from "../../src/components/checkpoint/dtypes.ts";
import { describeError } from "../../src/components/checkpoint/errors.ts";
import { elementCount, type SafetensorsHeader } from "../../src/components/checkpoint/header.ts";
import { nodeFileSource } from "../../src/components/checkpoint/node-file-source.ts";
import { fetchShardIndex, parseShardIndex, readShardHeaders, urlShards, type OpenShard } from "../../src/components/checkpoint/sharded.ts";
import { readSafetensorsHeader } from "../../src/components/checkpoint/stream-reader.ts";
import { urlSource } from "../../src/components/checkpoint/url-source.ts";

type Print = (line: string) => void;

const USAGE = "usage: npm run inspect -- <file.safetensors | URL | model.safetensors.index.json>";
const isUrl = (target: string) => /^https?:\/\//i.test(target);

function printHeader(header: SafetensorsHeader, print: Print): void {
  const metadata = Object.entries(header.metadata);
  if (metadata.length > 0) {
    print("metadata:");
    // Metadata can hold a whole model config as JSON: shorten long values to keep the table readable.
    for (const [key, value] of metadata) print(`  ${key}: ${value.length > 120 ? `${value.slice(0, 117)}… (${value.length} characters)` : value}`);
  }
  print("tensors, in file order:");
  const rows = header.tensors.map((t) => [t.name, t.dtype, `[${t.shape.join(", ")}]`]);
  const widths = [0, 1].map((column) => Math.max(column === 0 ? 4 : 5, ...rows.map((row) => row[column].length)));
  print(`  ${"name".padEnd(widths[0])}  ${"dtype".padEnd(widths[1])}  shape`);
  for (const [name, dtype, shape] of rows) print(`  ${name.padEnd(widths[0])}  ${dtype.padEnd(widths[1])}  ${shape}`);
}

function printTotals(headers: SafetensorsHeader[], fileBytes: number | undefined, print: Print): void {
  const tensors = headers.flatMap((h) => h.tensors);
  const parameters = tensors.reduce((sum, t) => sum + elementCount(t.shape), 0);
  const byDtype = new Map<string, number>();
  for (const t of tensors) byDtype.set(t.dtype, (byDtype.get(t.dtype) ?? 0) + elementCount(t.shape) * DTYPE_BYTES[t.dtype]);
  const dataBytes = [...byDtype.values()].reduce((a, b) => a + b, 0);
  print(`tensors: ${tensors.length}`);
  print(`parameters: ${parameters.toLocaleString("en-US")}${parameters >= 1e6 ? ` (${(parameters / 1e6).toFixed(1)} M)` : ""}`);
  print(`tensor data: ${bytes(dataBytes)}${byDtype.size > 1 ? `: ${[...byDtype].map(([dtype, n]) => `${dtype} ${bytes(n)}`).join(", ")}` : ""}`);
  if (fileBytes !== undefined) print(`file size: ${bytes(fileBytes)}`);
}

function bytes(n: number): string {
  const exact = `${n.toLocaleString("en-US")} bytes`;
  if (n >= 2 ** 30) return `${exact} (${(n / 2 ** 30).toFixed(2)} GiB)`;
  if (n >= 2 ** 20) return `${exact} (${(n / 2 ** 20).toFixed(1)} MiB)`;
  return exact;
}

async function inspectFile(target: string, print: Print): Promise<void> {
  const source: ByteSource = isUrl(target) ? urlSource(target) : await nodeFileSource(target);
  const header = await readSafetensorsHeader(source);
  print(`file: ${target}`);
  printHeader(header, print);
  printTotals([header], source.size, print);
}

async function inspectIndex(target: string, print: Print): Promise<void> {
  const index = isUrl(target) ? await fetchShardIndex(target) : parseShardIndex(await readFile(target, "utf8"));
  const open: OpenShard = isUrl(target) ? urlShards(target) : (file) => nodeFileSource(join(dirname(target), file));
  const sources: ByteSource[] = []; // kept for their sizes, which a URL source learns while reading
  const headers = await readShardHeaders(index, async (file) => {
    const source = await open(file);
    sources.push(source);
    return source;
  });
  print(`index: ${target} (${index.shards.length} shards)`);
  for (const [file, header] of headers) {
    print(`shard: ${file}`);
    printHeader(header, print);
  }
  const sizes = sources.map((source) => source.size);
  printTotals([...headers.values()], sizes.every((n) => n !== undefined) ? sizes.reduce((a, b) => a + b, 0) : undefined, print);
}

/** Print what a checkpoint holds, line by line; throws (one-line messages) when it cannot be read. */
export async function inspectCheckpoint(target: string, print: Print = console.log): Promise<void> {
  const isIndex = /\.json$/i.test(new URL(target, "file:///").pathname);
  await (isIndex ? inspectIndex(target, print) : inspectFile(target, print));
}

// Run as a script (not when a test imports the function above).
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  // No options, one argument: the shared parser still turns "--anything" into a clear error instead of a file name.
  const { positionals } = parseCommandLineAndArguments("inspect", {});
  const target = positionals[0];
  try {
    if (!target || positionals.length > 1) throw new Error(USAGE);
    await inspectCheckpoint(target);
  } catch (error) {
    const message = describeError(error);
    console.error(`inspect: ${target && !message.includes(target) ? `${target}: ` : ""}${message}`);
    process.exitCode = 1;
  }
}
