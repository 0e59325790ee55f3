/**
 * esbuild bundles of the bench: the Node one (ESM, TF.js's ESM build, dawn.node loaded at run time) and the
 * browser one (a page's module), each one self-contained file.
 */
import { build } from "esbuild";
import { fileURLToPath } from "node:url";

const here = (name: string) => fileURLToPath(new URL(name, import.meta.url));

export async function bundleNode(outfile: string, { minify = false } = {}): Promise<void> {
  await build({
    minify,
    entryPoints: [here("./node-main.ts")],
    outfile,
    bundle: true,
    format: "esm",
    platform: "node",
    target: "node18",
    // TF.js's ESM build (the `module` field), not the CommonJS `main` that Node would resolve.
    mainFields: ["module", "main"],
    // CommonJS parts of the bundle (seedrandom, long) may call require(); give the ES module one.
    banner: { js: "import { createRequire as __bench_createRequire } from 'node:module'; const require = __bench_createRequire(import.meta.url);" },
    logLevel: "error",
  });
}

export async function bundleBrowser(outfile: string): Promise<void> {
  await build({
    entryPoints: [here("./browser-main.ts")],
    outfile,
    bundle: true,
    format: "esm",
    platform: "browser",
    target: "es2022",
    logLevel: "error",
  });
}
