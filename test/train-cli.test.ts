import { test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtemp, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { readSafetensors } from "../src/components/checkpoint/safetensors.ts";

const run = promisify(execFile);
const train = (args: string[]) => run(process.execPath, ["--import", "tsx", "scripts/cli/train.ts", ...args], { encoding: "utf8" });

test("npm run train: a teacher, then sCD from it, each writing a loadable checkpoint and a metrics log", async () => {
  const dir = await mkdtemp(join(tmpdir(), "scm-train-"));
  const small = ["--data", "grid", "--modes", "4", "--hidden", "16", "--blocks", "1", "--batch", "32"];
  await train([...small, "--objective", "teacher", "--steps", "10", "--out", join(dir, "teacher")]);
  const { stdout } = await train([...small, "--objective", "scd", "--steps", "5", "--teacher", join(dir, "teacher", "model.safetensors"), "--out", join(dir, "scd")]);
  const summary = JSON.parse(stdout.trim().split("\n").at(-1)!);
  assert.ok(summary.sliced_w2.two_step > 0);
  const { tensors, metadata } = readSafetensors(new Uint8Array(await readFile(join(dir, "scd", "model.safetensors"))));
  assert.ok(Object.keys(tensors).includes("input.weight"));
  assert.equal(JSON.parse(metadata.run).config.objective, "scd");
  const lines = (await readFile(join(dir, "scd", "metrics.jsonl"), "utf8")).trim().split("\n").map((l) => JSON.parse(l));
  assert.equal(lines.length, 5);
  assert.ok(lines.every((l) => Number.isFinite(l.loss)));
});

test("npm run train: bad input ends with one clear line and a non-zero exit", async () => {
  const dir = await mkdtemp(join(tmpdir(), "scm-train-"));
  await writeFile(join(dir, "bad.safetensors"), "<!DOCTYPE html><p>404</p>");
  const cases: [string[], RegExp][] = [
    [["--data", "nope", "--objective", "sct"], /unknown --data "nope"/],
    [["--objective", "scd"], /scd distils a teacher: pass --teacher/],
    [["--objective", "ecm"], /--objective must be teacher, sct, scd, discrete or ect/],
    [["--objective", "sct", "--teacher", join(dir, "bad.safetensors")], /cannot be used: not a safetensors file/],
    // A misspelt option must not train the default width: it is an error naming the option meant.
    [["--objective", "teacher", "--hiden", "8"], /^train: unknown option --hiden; did you mean --hidden\?/],
    [["--objective", "teacher", "--steps"], /^train: --steps needs a value/],
  ];
  for (const [args, message] of cases) {
    await assert.rejects(train(args), (error: { code?: number; stderr?: string }) => error.code === 1 && message.test(error.stderr ?? "") && !/\n\s+at /.test(error.stderr ?? ""));
  }
});
