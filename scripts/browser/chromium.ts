/**
 * Launch Debian's Chromium (never a downloaded browser) through playwright-core, headless, with both of the
 * GPU backends the pages pick from working on a GPU-less machine: WebGPU on Chromium's SwiftShader adapter
 * and WebGL 2 (with float textures) on ANGLE over SwiftShader Vulkan. So the browser tests run the pages the
 * way a reader with WebGPU sees them (the pages choose WebGPU first); a test that wants WebGL or the CPU
 * backend asks the page for it (e.g. a `backend` query parameter) instead of removing a flag here.
 */
import { chromium, type Browser } from "playwright-core";
import { existsSync } from "node:fs";

export const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

/** The command-line flags of every launch; Playwright adds its own (including `--enable-unsafe-swiftshader`). */
export function chromiumArgs(extraArgs: string[] = []): string[] {
  return [
    // Tests run as root in containers, where Chromium's sandbox cannot start.
    "--no-sandbox",
    // WebGPU is off in Chromium on Linux unless this flag is given; with it, a machine without a GPU gets the
    // SwiftShader adapter (vendor "google", isFallbackAdapter). It is needed: without it requestAdapter()
    // returns null. (`--disable-gpu` is NOT used: measured with Chromium 156 it does not hide the adapter and
    // WebGL still runs on SwiftShader, but it names the state we do not want, a browser without GPU features.)
    "--enable-unsafe-webgpu",
    // The machine is offline: no QUIC, no background or component-update connections, no sync, no
    // first-run work, which would only fail (and could log errors into the pages' consoles).
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    // Containers give /dev/shm only 64 MB; Chromium then crashes on large pages unless it uses /tmp.
    "--disable-dev-shm-usage",
    ...extraArgs,
  ];
}

export async function launchChromium(extraArgs: string[] = []): Promise<Browser> {
  if (!existsSync(CHROMIUM)) throw new Error(`Chromium not found at ${CHROMIUM}: apt-get install -y chromium (or set CHROMIUM_PATH)`);
  // WebGL needs nothing here: Playwright's default `--enable-unsafe-swiftshader` lets ANGLE use SwiftShader
  // without the deprecation warning, and WebGL 2 then has EXT_color_buffer_float and OES_texture_float_linear.
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: chromiumArgs(extraArgs) });
}
