/**
 * Give Node a WebGPU implementation (Dawn, from the `webgpu` package) before TF.js's WebGPU backend is
 * imported: the backend registers itself only if navigator.gpu exists at import time. Without a GPU, Dawn
 * runs on a CPU Vulkan driver: SwiftShader from Debian's chromium package (VK_ICD_FILENAMES, set by the
 * npm script) or Mesa's lavapipe from bookworm-backports.
 */
import { create, globals } from "webgpu";

Object.assign(globalThis, globals);
Object.defineProperty(globalThis, "navigator", { value: { gpu: create([]) }, configurable: true, writable: true });
