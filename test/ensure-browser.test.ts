// scripts/build/ensure-browser.ts (the first step of `npm test`): what it decides for each kind of machine, with the
// machine's answers injected, so no root, apt or missing package is needed to test the "cannot install" path.
import { test } from "node:test";
import assert from "node:assert/strict";
import { PACKAGES, installCommand, planSetup, type SystemProbe } from "../scripts/build/ensure-browser.ts";

const probe = (present: string[], isRoot: boolean, hasAptGet: boolean): SystemProbe => ({
  installed: (name) => present.includes(name),
  isRoot,
  hasAptGet,
});

test("everything installed: nothing to do, whoever runs it", () => {
  assert.deepEqual(planSetup(probe(["chromium", "libvulkan1"], false, false)), { kind: "ready" });
});

test("root with apt-get installs only what is missing", () => {
  assert.deepEqual(planSetup(probe(["libvulkan1"], true, true)), { kind: "install", packages: ["chromium"] });
  assert.deepEqual(planSetup(probe([], true, true)), { kind: "install", packages: [...PACKAGES] });
});

test("not root: fails with one line that gives the exact sudo apt-get command", () => {
  const plan = planSetup(probe([], false, true));
  assert.equal(plan.kind, "fail");
  if (plan.kind !== "fail") return;
  assert.equal(
    plan.message,
    "test:setup: npm test needs the Debian packages chromium libvulkan1 (Chromium for the browser tests, the Vulkan loader for the WebGPU tests); " +
      "run: sudo apt-get update && sudo apt-get install -y chromium libvulkan1",
  );
  assert.ok(!plan.message.includes("\n"), "one line");
});

test("one package missing: the command names only that one", () => {
  const plan = planSetup(probe(["chromium"], false, true));
  assert.ok(plan.kind === "fail" && plan.message.endsWith("run: sudo apt-get update && sudo apt-get install -y libvulkan1"));
});

test("no apt-get (root or not): fails with one line saying what to install", () => {
  for (const isRoot of [true, false]) {
    const plan = planSetup(probe(["libvulkan1"], isRoot, false));
    assert.equal(plan.kind, "fail");
    if (plan.kind !== "fail") return;
    assert.match(plan.message, /^test:setup: npm test needs the Debian package chromium .*apt-get is not available: install chromium with this system's package manager/);
    assert.ok(!plan.message.includes("\n"), "one line");
  }
});

test("the install command has sudo only when not root", () => {
  assert.equal(installCommand(["chromium"], true), "apt-get update && apt-get install -y chromium");
  assert.equal(installCommand(["chromium"], false), "sudo apt-get update && sudo apt-get install -y chromium");
});
