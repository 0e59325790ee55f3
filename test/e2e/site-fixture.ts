/**
 * The shared setup of the browser tests: serve the built site (dist/, from `npm run build`) and launch
 * Debian's Chromium once per test file; screenshots go to test-artifacts/. Chromium is launched with WebGPU
 * (SwiftShader) and WebGL, so the pages pick WebGPU as they would for a reader who has it; a test that wants
 * another backend puts it in the page's URL.
 */
import { after, before } from "node:test";
import { existsSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import { resolve } from "node:path";
import type { Browser } from "playwright-core";
import { serveDirectory } from "../../scripts/browser/static-server.ts";
import { launchChromium } from "../../scripts/browser/chromium.ts";

export const ARTIFACTS = resolve("test-artifacts");

/**
 * Run the slow browser tests too: the live runs that take minutes on SwiftShader's WebGPU (CIFAR-10 training,
 * /discrete's live pair, /jvp's trained networks). CI leaves them out to stay within its time; run them with
 * `npm run test:e2e:slow` after changing the worker, the training code or the WebGPU path.
 */
export const SLOW_E2E = process.env.SCM_LAB_SLOW_E2E === "1";

export interface Site {
  /** the base URL of the served dist/ */
  readonly url: string;
  readonly browser: Browser;
}

/** Register before/after hooks for the current test file and return the site they open. */
export function useBuiltSite(): Site {
  let server: Awaited<ReturnType<typeof serveDirectory>> | undefined;
  let browser: Browser | undefined;
  before(async () => {
    if (!existsSync(resolve("dist/index.html"))) throw new Error("dist/ has no built site: run `npm run build` first");
    await mkdir(ARTIFACTS, { recursive: true });
    server = await serveDirectory(resolve("dist"));
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
    await server?.close();
  });
  return {
    get url() {
      if (!server) throw new Error("the site is served only inside tests");
      return server.url;
    },
    get browser() {
      if (!browser) throw new Error("the browser runs only inside tests");
      return browser;
    },
  };
}
