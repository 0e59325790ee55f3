// Data loader: bundle the jobs worker (TF.js included) into one ES module that pages load with
// new Worker(await FileAttachment("data/jobs-worker.js").url(), {type: "module"}). Framework does not bundle
// workers itself.
import { build } from "esbuild";

const result = await build({
  entryPoints: ["src/workers/jobs-worker.ts"],
  bundle: true,
  format: "esm",
  platform: "browser",
  target: "es2022",
  minify: true,
  write: false,
  logLevel: "error",
});
process.stdout.write(result.outputFiles[0].text);
