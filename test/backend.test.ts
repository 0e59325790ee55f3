import { test } from "node:test";
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { WASM_FILES, backendLabel, requestedBackend, selectBackend, wasmFilesFrom } from "../src/components/runtime/backend.ts";
import { resolve } from "node:path";
import { probeDeviation, runToyProbe, PROBE_TOLERANCE } from "../src/components/runtime/backend-probe.ts";

test("in Node without a GPU the selector falls back to CPU and says why", async () => {
  const report = await selectBackend(undefined, "");
  assert.equal(report.active, "cpu");
  assert.equal(report.device, "cpu");
  assert.deepEqual(report.attempts.map((a) => a.name), ["webgpu", "webgl", "cpu"]);
  assert.match(report.attempts[0].reason, /navigator\.gpu/);
  assert.equal(report.attempts[1].ok, false);
  assert.match(report.summary, /CPU .*fell back because webgpu: .*webgl: /);
});

test("CPU is always appended as the last resort", async () => {
  const report = await selectBackend(["webgl"], "");
  assert.equal(report.active, "cpu");
});

test("?backend= forces a backend first; an unknown value is ignored and reported", async () => {
  assert.deepEqual(requestedBackend("?backend=webgl"), { name: "webgl" });
  assert.deepEqual(requestedBackend("?x=1&backend=CPU"), { name: "cpu" });
  assert.deepEqual(requestedBackend("?backend=wasm"), { name: "wasm" });
  assert.deepEqual(requestedBackend("?backend=wasn"), { name: null, invalid: "wasn" });
  assert.deepEqual(requestedBackend(""), { name: null });
  const forced = await selectBackend(undefined, "?backend=cpu");
  assert.equal(forced.requested, "cpu");
  assert.deepEqual(forced.attempts.map((a) => a.name), ["cpu"], "the forced backend is tried first, and works");
  const ignored = await selectBackend(undefined, "?backend=tpu");
  assert.equal(ignored.ignoredRequest, "tpu");
  assert.equal(ignored.active, "cpu");
});

test("the label says which device runs the math", () => {
  assert.equal(backendLabel("webgpu", "gpu"), "WebGPU on the GPU");
  assert.match(backendLabel("webgpu", "software", "google swiftshader"), /^WebGPU on a software adapter \(google swiftshader\), emulated on the CPU$/);
  assert.match(backendLabel("webgl", "software", "SwiftShader"), /software renderer/);
  assert.doesNotMatch(backendLabel("webgpu", "software"), /GPU\)/);
});

test("the probe is deterministic on the CPU and a wrong read (zeros) or a perturbation fails it", async () => {
  await tf.setBackend("cpu");
  const before = tf.memory().numTensors;
  const a = await runToyProbe();
  const b = await runToyProbe();
  assert.equal(tf.memory().numTensors, before, "no tensor leaks");
  assert.equal(probeDeviation(a, b), 0);
  assert.ok(a.some((v) => Math.abs(v) > 0.1), "the probe's numbers are not trivially small");
  assert.ok(probeDeviation(new Float32Array(a.length), a) >= 10 * PROBE_TOLERANCE, "zeros are far outside the tolerance");
  const perturbed = Float32Array.from(a, (v, i) => (i === a.length - 1 ? v + 0.5 : v));
  assert.ok(probeDeviation(perturbed, a) > PROBE_TOLERANCE, "one number off by 0.5 fails");
  assert.equal(probeDeviation(Float32Array.from(a, (v, i) => (i === 0 ? NaN : v)), a), Infinity);
});

test("a software WebGPU adapter is tried after WebGL, and a requested backend still comes first", async () => {
  const g = globalThis as { navigator?: unknown };
  const saved = Object.getOwnPropertyDescriptor(globalThis, "navigator");
  // A fake software adapter: TF.js cannot initialise WebGPU from it, so the attempt fails, but the order shows.
  Object.defineProperty(globalThis, "navigator", { value: { gpu: { requestAdapter: async () => ({ info: { vendor: "google", architecture: "swiftshader" } }) } }, configurable: true });
  try {
    const plain = await selectBackend(undefined, "");
    assert.deepEqual(plain.attempts.map((a) => a.name), ["webgl", "webgpu", "cpu"]);
    const forced = await selectBackend(undefined, "?backend=cpu");
    assert.deepEqual(forced.attempts.map((a) => a.name), ["cpu"], "?backend=cpu is tried first even with a software adapter around");
  } finally {
    if (saved) Object.defineProperty(globalThis, "navigator", saved);
    else delete g.navigator;
  }
});

test("WASM runs first where the page offers its binaries, checked by the probe; without them ?backend=wasm is refused", async () => {
  const query = new URLSearchParams(Object.fromEntries(WASM_FILES.map((file) => [file, resolve("node_modules/@tensorflow/tfjs-backend-wasm/dist", file)]))).toString();
  assert.equal(wasmFilesFrom(""), null);
  assert.equal(wasmFilesFrom(`?${WASM_FILES[0]}=a.wasm`), null, "all three binaries or none");
  assert.deepEqual(Object.keys(wasmFilesFrom(`?${query}`)!), [...WASM_FILES]);
  const refused = await selectBackend(undefined, "?backend=wasm");
  assert.equal(refused.active, "cpu");
  assert.match(refused.attempts[0].reason, /offers no WebAssembly kernels/);
  const offered = await selectBackend(undefined, `?${query}`);
  assert.equal(offered.active, "wasm", "offered, it is the first choice");
  assert.equal((await selectBackend(undefined, `?${query}&backend=cpu`)).active, "cpu", "a requested backend still comes first");
  const report = await selectBackend(undefined, `?${query}&backend=wasm`);
  assert.equal(report.active, "wasm");
  assert.deepEqual(report.attempts.map((a) => a.name), ["wasm"]);
  assert.match(report.attempts[0].reason, /match the CPU within/);
  assert.equal(report.label, "WebAssembly on the CPU (TF.js's WASM kernels)");
  await tf.setBackend("cpu");
});
