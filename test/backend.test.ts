import { test } from "node:test";
import assert from "node:assert/strict";
import { selectBackend } from "../src/components/backend.ts";

test("in Node without a GPU the selector falls back to CPU and says why", async () => {
  const report = await selectBackend();
  assert.equal(report.active, "cpu");
  assert.deepEqual(report.attempts.map((a) => a.name), ["webgpu", "webgl", "cpu"]);
  assert.match(report.attempts[0].reason, /navigator\.gpu/);
  assert.equal(report.attempts[1].ok, false);
  assert.match(report.summary, /CPU .*fell back because webgpu: .*webgl: /);
});

test("CPU is always appended as the last resort", async () => {
  const report = await selectBackend(["webgl"]);
  assert.equal(report.active, "cpu");
});
