import { test } from "node:test";
import assert from "node:assert/strict";
import { adapterName, isSoftwareAdapter, isSoftwareRenderer } from "../src/components/runtime/adapter-kind.ts";

test("software adapters are recognised by flag or by name; real GPUs are not", () => {
  assert.equal(isSoftwareAdapter({ info: { vendor: "google", architecture: "swiftshader" } }), true);
  assert.equal(isSoftwareAdapter({ isFallbackAdapter: true }), true);
  assert.equal(isSoftwareAdapter({ info: { isFallbackAdapter: true, vendor: "x" } }), true);
  assert.equal(isSoftwareAdapter({ info: { vendor: "mesa", device: "llvmpipe (LLVM 15.0.6, 256 bits)" } }), true);
  assert.equal(isSoftwareAdapter({ info: { vendor: "nvidia", architecture: "hopper" } }), false);
  assert.equal(isSoftwareAdapter({ info: { vendor: "apple", architecture: "metal-3" } }), false);
  assert.equal(adapterName({ info: { vendor: "google", architecture: "swiftshader" } }), "google swiftshader");
  assert.equal(isSoftwareRenderer("ANGLE (Google, Vulkan 1.3.0 (SwiftShader Device (Subzero) (0x0000C0DE)), SwiftShader driver)"), true);
  assert.equal(isSoftwareRenderer("ANGLE (NVIDIA, NVIDIA GeForce RTX 4090 Direct3D11 vs_5_0 ps_5_0)"), false);
});
