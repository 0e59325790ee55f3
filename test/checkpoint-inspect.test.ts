/** npm run inspect: a table of a checkpoint's tensors; one clear line and exit code 1 for a bad file. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { encodeSafetensors } from "../src/components/checkpoint/layout.ts";
import { writeSafetensors } from "../src/components/checkpoint/safetensors.ts";
import { inspectCheckpoint } from "../scripts/cli/inspect.ts";

const unet = writeSafetensors(
  {
    "conv_in.weight": { shape: [192, 3, 3, 3], data: new Float32Array(5184) },
    "conv_in.bias": { shape: [192], data: new Float32Array(192) },
    "time_embedding.linear_1.weight": { shape: [768, 192], data: new Float32Array(147_456) },
  },
  { format: "pt" },
);
const mixed = encodeSafetensors([
  { name: "h", dtype: "F16", shape: [2, 2], bytes: new Uint8Array(8) },
  { name: "ids", dtype: "I64", shape: [3], bytes: new Uint8Array(24) },
]);

async function withFiles(work: (dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), "scm-inspect-"));
  try {
    await writeFile(join(dir, "unet.safetensors"), unet);
    await writeFile(join(dir, "mixed.safetensors"), mixed);
    await writeFile(join(dir, "model.bin"), "PK\x03\x04\x14\x00\x00\x00archive/data.pkl", "latin1");
    await writeFile(join(dir, "model.safetensors.index.json"), JSON.stringify({ weight_map: { "conv_in.weight": "unet.safetensors", "conv_in.bias": "unet.safetensors", "time_embedding.linear_1.weight": "unet.safetensors", h: "mixed.safetensors", ids: "mixed.safetensors" } }));
    await work(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function inspected(target: string): Promise<string> {
  const lines: string[] = [];
  await inspectCheckpoint(target, (line) => lines.push(line));
  return lines.join("\n") + "\n";
}

function assertUnetTable(output: string): void {
  assert.match(output, /metadata:\n {2}format: pt\n/);
  assert.match(output, /conv_in\.weight +F32 +\[192, 3, 3, 3\]\n/);
  assert.match(output, /time_embedding\.linear_1\.weight +F32 +\[768, 192\]\n/);
  assert.match(output, /^tensors: 3$/m);
  assert.match(output, /^parameters: 152,832$/m);
  assert.match(output, /^tensor data: 611,328 bytes$/m);
  assert.match(output, new RegExp(`^file size: ${unet.length.toLocaleString("en-US")} bytes`, "m"));
}

test("npm run inspect as a command: a bad file gives one line on stderr and exit code 1", async () => {
  // One process start only (they are slow); the output for good files is checked in-process below.
  const run = promisify(execFile);
  await withFiles(async (dir) => {
    await assert.rejects(run(process.execPath, ["--import", "tsx", "scripts/cli/inspect.ts", join(dir, "model.bin")], { cwd: new URL("..", import.meta.url).pathname }), (error: { code?: number; stdout?: string; stderr?: string }) => {
      assert.equal(error.code, 1);
      assert.equal(error.stdout, "");
      assert.match(error.stderr ?? "", /^inspect: .*model\.bin: not a safetensors file: this is a PyTorch \.bin\/\.pt zip checkpoint; convert it to safetensors\n$/);
      return true;
    });
  });
});

test("inspect: a local file, a sharded index, mixed dtypes, a missing file", async () => {
  await withFiles(async (dir) => {
    assertUnetTable(await inspected(join(dir, "unet.safetensors")));
    assert.match(await inspected(join(dir, "mixed.safetensors")), /^tensor data: 32 bytes: F16 8 bytes, I64 24 bytes$/m);
    const index = await inspected(join(dir, "model.safetensors.index.json"));
    assert.match(index, /^index: .* \(2 shards\)$/m);
    assert.match(index, /^shard: mixed\.safetensors\n/m);
    assert.match(index, /^tensors: 5$/m);
    assert.match(index, new RegExp(`^file size: ${(unet.length + mixed.length).toLocaleString("en-US")} bytes`, "m"));
    await assert.rejects(inspected(join(dir, "missing.safetensors")), /cannot open .*missing\.safetensors: ENOENT/);
  });
});

test("inspect: a URL reads only the header, with one Range request; a 404 is one line", async () => {
  const ranges: (string | undefined)[] = [];
  const server = createServer((request, response) => {
    ranges.push(request.headers.range);
    if (request.url !== "/unet.safetensors") return response.writeHead(404).end("Entry not found");
    const [, start, end] = /^bytes=(\d+)-(\d+)$/.exec(request.headers.range ?? "") ?? [];
    const last = Math.min(Number(end), unet.length - 1);
    response.writeHead(206, { "content-range": `bytes ${start}-${last}/${unet.length}` }).end(unet.subarray(Number(start), last + 1));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  try {
    assertUnetTable(await inspected(`${base}/unet.safetensors`));
    assert.deepEqual(ranges, ["bytes=0-65535"]);
    await assert.rejects(inspected(`${base}/gone.safetensors`), /^CheckpointSourceError: not found \(HTTP 404 Not Found\): http:\/\/127\.0\.0\.1:\d+\/gone\.safetensors; check the address and the revision$/);
  } finally {
    server.close();
  }
});
