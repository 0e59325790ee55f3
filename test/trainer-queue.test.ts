/**
 * Trainer.enqueueStep: steps queued without reading their metrics back, read every k steps. The same training as
 * step() bit for bit; reports in order; and the NaN guard k steps late, restoring only weights whose steps were
 * all checked finite (a snapshot taken behind a bad step is dropped, one taken before it is kept).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { TimeConditionedMlp } from "../src/components/nn/mlp.ts";
import { mixtureBatch, EDM_PROPOSAL } from "../src/components/objectives/diffusion.ts";
import { createMixture } from "../src/components/trigflow/gaussian-mixture.ts";
import { createRng } from "../src/components/math/rng.ts";
import { NonFiniteLossError, Trainer, type StepReport, type TrainerConfig } from "../src/components/training/trainer.ts";
import { DEFAULT_TOY_RUN } from "../src/components/toy/toy-run-config.ts";

await tf.setBackend("cpu");
const mixture = createMixture([[0.5, 0.5], [-0.5, -0.5]], 0.1);
const network = { hidden: 16, blocks: 1, groups: 4, timeEmbedding: { kind: "positional", dim: 8 } } as const;
const config: TrainerConfig = { ...DEFAULT_TOY_RUN, objective: "sct", batch: 32, learningRate: 3e-3, emaHalfLife: 500 };

function setup() {
  const net = new TimeConditionedMlp({ ...network, seed: 1 });
  const ema = new TimeConditionedMlp({ ...network, seed: 1 });
  const trainer = new Trainer(net, ema, config);
  const rng = createRng(5);
  const batch = () => mixtureBatch(mixture, config.batch, rng, EDM_PROPOSAL);
  const weights = async () => Object.fromEntries(await Promise.all(net.params.names().map(async (n) => [n, Array.from(await net.params.get(n).data())] as const)));
  const emaWeights = async () => {
    trainer.syncEma();
    return Object.fromEntries(await Promise.all(ema.params.names().map(async (n) => [n, Array.from(await ema.params.get(n).data())] as const)));
  };
  const dispose = () => {
    trainer.dispose();
    net.dispose();
    ema.dispose();
  };
  return { trainer, batch, weights, emaWeights, dispose };
}

test("queued steps read every 3 train exactly as step() does, and report in order", async () => {
  const a = setup();
  const b = setup();
  const direct: StepReport[] = [];
  for (let i = 0; i < 7; i++) direct.push(await a.trainer.step(a.batch()));
  let before = 0;
  const groups: number[][] = [];
  const queued: StepReport[] = [];
  for (let i = 0; i < 7; i++) {
    const reports = await b.trainer.enqueueStep(b.batch(), 3);
    groups.push(reports.map((r) => r.iteration));
    queued.push(...reports);
    if (i === 2) before = tf.memory().numTensors; // b's optimiser state and first snapshot exist by now
  }
  assert.equal(b.trainer.iteration, 7, "iteration counts queued steps");
  const last = await b.trainer.flush();
  groups.push(last.map((r) => r.iteration));
  queued.push(...last);
  assert.deepEqual(groups, [[], [], [1, 2, 3], [], [], [4, 5, 6], [], [7]]);
  assert.deepEqual(queued, direct, "the same losses, gradient norms and tangent norms");
  assert.deepEqual(await b.weights(), await a.weights(), "the same weights");
  assert.deepEqual(await b.emaWeights(), await a.emaWeights(), "the same EMA");
  assert.deepEqual(await b.trainer.flush(), [], "nothing left to read");
  assert.equal(tf.memory().numTensors, before, "every queued step's metrics were disposed");
  await assert.rejects(b.trainer.enqueueStep(b.batch(), 0), /readEvery must be a whole number ≥ 1/);
  a.dispose();
  b.dispose();
});

/** Queue steps (read every 4) until `iteration` reaches `until`. */
async function queueUntil(run: ReturnType<typeof setup>, until: number): Promise<void> {
  while (run.trainer.iteration < until) await run.trainer.enqueueStep(run.batch(), 4);
}

function poison(run: ReturnType<typeof setup>, net: "net"): void {
  const trainer = run.trainer;
  const name = trainer[net].params.names().find((n) => n.endsWith("input.weight"))!;
  tf.tidy(() => trainer[net].params.get(name).assign(tf.fill(trainer[net].params.get(name).shape, NaN)));
}

test("a NaN found k steps late restores the snapshot taken before it, even one still unchecked when the NaN step was queued", async () => {
  const run = setup();
  await queueUntil(run, 50); // steps 49 and 50 are queued, unchecked; the guard copied the weights after step 50
  const afterFifty = await run.weights();
  poison(run, "net"); // step 51 computes a NaN loss
  await assert.rejects(queueUntil(run, 52), (error: unknown) => error instanceof NonFiniteLossError && error.iteration === 50 && /loss became NaN/.test(error.message));
  assert.equal(run.trainer.iteration, 50, "back at the last checked step");
  assert.deepEqual(await run.weights(), afterFifty, "steps 49 and 50 were checked before 51 failed: their snapshot is the one restored");
  assert.deepEqual(await run.trainer.flush(), [], "the queued steps were dropped");
  run.dispose();
});

test("a snapshot queued behind a NaN step is never restored: the guard goes back to the last checked one", async () => {
  const run = setup();
  const initial = await run.weights();
  const initialEma = await run.emaWeights();
  await queueUntil(run, 48); // all checked (read at 48); the last good weights are the initial ones (taken at step 0)
  poison(run, "net"); // step 49 fails; the copy after step 50 holds NaN weights and must not become "good"
  await assert.rejects(queueUntil(run, 52), (error: unknown) => error instanceof NonFiniteLossError && error.iteration === 48);
  assert.deepEqual(await run.weights(), initial);
  assert.deepEqual(await run.emaWeights(), initialEma, "the EMA, updated by the queued steps, is back too");
  // Training goes on from the restored weights.
  const [report] = await run.trainer.enqueueStep(run.batch(), 1);
  assert.ok(Number.isFinite(report.loss) && report.iteration === 49);
  run.dispose();
});
