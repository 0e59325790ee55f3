/**
 * `npm run train -- --data cifar10` on a tiny synthetic data directory in the real format (class-N.bin +
 * meta.json, written here, so nothing is downloaded): a teacher writes a training checkpoint the page can read,
 * a model file and a metrics log; --resume continues the step count; sCD and sCT start from the teacher's files;
 * a NaN stops the run with the guard's message; bad input ends with one line.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdir, mkdtemp, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { makeCifar10Meta, CIFAR10_IMAGE_BYTES } from "../src/components/image/cifar10/dataset.ts";
import { readTrainingFile, writeTrainingCheckpoint, type TrainingCheckpoint } from "../src/components/image/image-checkpoint.ts";
import { sha256Hex } from "../scripts/data/cifar10/shards.ts";

const exec = promisify(execFile);
const train = (args: string[]) => exec(process.execPath, ["--import", "tsx", "scripts/cli/train.ts", "--data", "cifar10", ...args], { encoding: "utf8" });

/** Ten class files of 3 smooth 32×32 images each, and their meta.json. */
async function syntheticCifar(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "scm-cifar-cli-"));
  const perClass = 3;
  const sha256: Record<string, string> = {};
  for (let c = 0; c < 10; c++) {
    const bytes = new Uint8Array(perClass * CIFAR10_IMAGE_BYTES);
    for (let i = 0; i < bytes.length; i++) bytes[i] = (20 * c + 3 * (i % 97) + Math.floor(i / CIFAR10_IMAGE_BYTES) * 40) % 256;
    await writeFile(join(dir, `class-${c}.bin`), bytes);
    sha256[`class-${c}.bin`] = sha256Hex(bytes);
  }
  const meta = makeCifar10Meta("synthetic test data", Array(10).fill(perClass), sha256, Array(10).fill(0));
  await writeFile(join(dir, "meta.json"), JSON.stringify(meta));
  return dir;
}

const lines = async (path: string) => (await readFile(path, "utf8")).trim().split("\n").map((l) => JSON.parse(l));
const training = async (path: string): Promise<TrainingCheckpoint> => {
  const file = readTrainingFile(new Uint8Array(await readFile(path)));
  assert.equal(file.kind, "training", `${path} is a training checkpoint`);
  return (file as { checkpoint: TrainingCheckpoint }).checkpoint;
};

const data = await syntheticCifar();
const out = await mkdtemp(join(tmpdir(), "scm-cifar-cli-out-"));
const small = ["--data-dir", data, "--resolution", "8", "--batch", "2"];

test("a teacher run writes a training checkpoint, a model and a metrics log; --resume continues the step count", async () => {
  const dir = join(out, "teacher");
  const { stdout } = await train([...small, "--objective", "teacher", "--preset", "tiny", "--classes", "3,5", "--steps", "2", "--out", dir]);
  assert.equal(JSON.parse(stdout.trim().split("\n").at(-1)!).step, 2);
  const first = await training(join(dir, "checkpoint.safetensors"));
  assert.equal(first.phase, "teacher");
  assert.equal(first.state.iteration, 2);
  assert.deepEqual(first.classes, [3, 5]);
  assert.equal(first.teacher!.steps, 2);
  assert.equal(first.teacher!.config.network.resolution, 8);
  assert.equal(first.teacher!.config.batch, 2);
  assert.equal(first.student, null);
  assert.ok(first.state.optimizer.length > 0 && Object.keys(first.state.ema).length > 0);
  const model = readTrainingFile(new Uint8Array(await readFile(join(dir, "model.safetensors"))));
  assert.equal(model.kind, "model");
  if (model.kind === "model") assert.deepEqual(model.config, first.teacher!.config.network);
  const log = await lines(join(dir, "metrics.jsonl"));
  assert.deepEqual(log.map((l) => l.step), [1, 2]);
  assert.ok(log.every((l) => Number.isFinite(l.loss) && l.gradient_norm > 0 && l.ms_per_step > 0), JSON.stringify(log));

  await train(["--resume", join(dir, "checkpoint.safetensors"), "--data-dir", data, "--steps", "3", "--out", dir]);
  const resumed = await training(join(dir, "checkpoint.safetensors"));
  assert.equal(resumed.state.iteration, 3);
  assert.equal(resumed.teacher!.steps, 3);
  assert.deepEqual(resumed.classes, [3, 5]);
  assert.deepEqual((await lines(join(dir, "metrics.jsonl"))).map((l) => l.step), [1, 2, 3], "the log is continued, not restarted");
  // The optimiser's step count (its first tensor) went on from 2 to 3.
  assert.deepEqual([first.state.optimizer[0].data[0], resumed.state.optimizer[0].data[0]], [2, 3]);
});

test("sCD from the teacher's model file and sCT from its checkpoint write student checkpoints with the teacher inside", async () => {
  const teacherDir = join(out, "teacher");
  const scd = join(out, "scd");
  await train([...small, "--objective", "scd", "--teacher", join(teacherDir, "model.safetensors"), "--classes", "3", "--steps", "1", "--out", scd]);
  const c = await training(join(scd, "checkpoint.safetensors"));
  assert.equal(c.phase, "student");
  assert.equal(c.student!.config.objective, "scd");
  assert.equal(c.state.iteration, 1);
  assert.ok(c.teacherWeights && Object.keys(c.teacherWeights).length === Object.keys(c.state.net).length);
  assert.equal(c.teacher!.steps, 0, "a teacher from a model file has no steps of its own in this run");
  assert.deepEqual(c.student!.config.network.channelMult, c.teacher!.config.network.channelMult);

  const sct = join(out, "sct");
  await train([...small, "--objective", "sct", "--teacher", join(teacherDir, "checkpoint.safetensors"), "--steps", "1", "--out", sct]);
  const s = await training(join(sct, "checkpoint.safetensors"));
  assert.equal(s.student!.config.objective, "sct");
  assert.deepEqual(s.classes, [3, 5], "the classes of the teacher's checkpoint");
  assert.equal(s.teacher!.steps, 3);
  assert.equal(s.student!.config.network.dropout, 0.2, "the student keeps sCT's dropout, not the teacher's");
});

test("a page checkpoint of sCD from a teacher file (teacher plan null, teacher weights inside) resumes", async () => {
  const dir = join(out, "scd-page");
  await mkdir(dir, { recursive: true });
  const c = await training(join(out, "scd", "checkpoint.safetensors"));
  await writeFile(join(dir, "in.safetensors"), writeTrainingCheckpoint({ ...c, teacher: null }));
  await train(["--resume", join(dir, "in.safetensors"), "--data-dir", data, "--steps", "2", "--out", dir]);
  const resumed = await training(join(dir, "checkpoint.safetensors"));
  assert.equal(resumed.state.iteration, 2);
  assert.equal(resumed.student!.config.objective, "scd");
  assert.ok(resumed.teacherWeights);
});

test("a NaN weight stops the run with the guard's message and exit code 1", async () => {
  const dir = join(out, "nan");
  await mkdir(dir, { recursive: true });
  const c = await training(join(out, "teacher", "checkpoint.safetensors"));
  const name = Object.keys(c.state.net).find((n) => n.endsWith("conv0.weight"))!;
  c.state.net[name] = { shape: c.state.net[name].shape, data: new Float32Array(c.state.net[name].data.length).fill(NaN) };
  await writeFile(join(dir, "in.safetensors"), writeTrainingCheckpoint(c));
  await assert.rejects(train(["--resume", join(dir, "in.safetensors"), "--data-dir", data, "--steps", "5", "--out", dir]), (error: { code?: number; stderr?: string }) => {
    assert.equal(error.code, 1);
    assert.match(error.stderr ?? "", /train: training stopped at step 3: the loss became NaN; the last good weights were restored/);
    return true;
  });
});

test("bad input ends with one clear line and exit code 1", async () => {
  const empty = await mkdtemp(join(tmpdir(), "scm-cifar-cli-empty-"));
  const cases: [string[], RegExp][] = [
    [["--data-dir", empty, "--objective", "teacher", "--steps", "1", "--out", join(empty, "o")], /has no meta\.json/],
    [[...small, "--objective", "teacher", "--classes", "12"], /--classes takes CIFAR-10 class indices 0–9/],
    [[...small, "--objective", "scd"], /scd distils a teacher: pass --teacher/],
    [["--resume", join(out, "teacher", "checkpoint.safetensors"), "--preset", "base"], /--preset cannot change a resumed run/],
  ];
  for (const [args, message] of cases) {
    await assert.rejects(train(args), (error: { code?: number; stderr?: string }) => error.code === 1 && message.test(error.stderr ?? "") && !/\n\s+at /.test(error.stderr ?? ""));
  }
});
