import { test } from "node:test";
import assert from "node:assert/strict";
import { formatTick, logTicks } from "../src/ui/image/live-image-training.ts";

test("axis ticks read as decimals or 1e-4 style, never with SI prefixes", () => {
  assert.deepEqual([0.001, 0.002, 0.01, 0.5, 1, 20, 300, 5000].map(formatTick), ["0.001", "0.002", "0.01", "0.5", "1", "20", "300", "5000"]);
  assert.deepEqual([1e-4, 2e-5, 1e4, 3e6, -1e-4].map(formatTick), ["1e-4", "2e-5", "1e4", "3e6", "-1e-4"]);
  assert.equal(formatTick(0.30000000000000004), "0.3");
  assert.equal(formatTick(0), "0");
  for (const t of logTicks(1e-6, 1e3)) assert.doesNotMatch(formatTick(t), /[µmkMG]$/);
});

test("log ticks: powers of ten over several decades, 1-2-5 or 1…9 steps over fewer, even steps within one, at most 8", () => {
  assert.deepEqual(logTicks(0.0007, 12), [0.001, 0.01, 0.1, 1, 10]);
  assert.deepEqual(logTicks(0.3, 30), [0.5, 1, 2, 5, 10, 20]);
  assert.deepEqual(logTicks(1.5, 12), [2, 5, 10]);
  assert.deepEqual(logTicks(1.5, 4.5), [2, 3, 4]);
  assert.deepEqual(logTicks(2.1, 2.9), [2.2, 2.4, 2.6, 2.8]);
  assert.deepEqual(logTicks(1e-12, 1e12), [1e-12, 1e-8, 1e-4, 1, 1e4, 1e8, 1e12], "every 4th of 25 decades");
  assert.deepEqual(logTicks(4, 4), [4]);
  assert.deepEqual(logTicks(0, 5), []);
  for (const [lo, hi] of [[0.013, 0.9], [3e-5, 2e-2], [7, 700], [1.01, 1.02]]) {
    const ticks = logTicks(lo, hi);
    assert.ok(ticks.length >= 2 && ticks.length <= 8, `${lo}…${hi}: ${ticks}`);
    assert.ok(ticks.every((t) => t >= lo && t <= hi), `${lo}…${hi}: ${ticks}`);
    assert.equal(new Set(ticks.map(formatTick)).size, ticks.length, `distinct labels ${ticks.map(formatTick)}`);
  }
});
