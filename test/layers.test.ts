/**
 * The library's folders are layers: each file imports only from its own folder's layer or lower ones, and no
 * files import each other in a cycle. A newcomer can then read the library bottom-up, from the paper's math to
 * the worker jobs, and find each thing where its folder's name says.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, readdirSync, statSync } from "node:fs";
import { dirname, join, normalize, relative } from "node:path";

const LIBRARY = "src/components";

/** Lowest first. A subfolder (toy/experiments, image/cifar10, pretrained/unet2d) belongs to its top folder's layer. */
export const LAYERS = [
  "math", // seeded randomness, the normal distribution, quasi-random points, vector operations
  "trigflow", // the paper's equations: schedule, PF-ODE, solvers, consistency sampling, time proposal, exact mixtures
  "checkpoint", // safetensors: streamed reading from URLs and files, the writer
  "nn", // value-and-tangent layers, networks, parameters
  "objectives", // one loss per file: diffusion (Eq. 4), sCM (Alg. 1), discrete-time (App. E), ECT
  "training", // the optimiser step, EMA, RAdam, the training loop, diagnostics
  "runtime", // backend choice and probe, CPU kernels, GPU memory watch
  "toy", // 2-D runs, their metrics, and the pages' experiments
  "image", // CIFAR-10 data and UNet training
  "pretrained", // diffusers' UNet2DModel, the consistency sampler, loading big checkpoints
  "jobs", // every long computation as a worker job, and the protocol that serves them
] as const;

function libraryFiles(dir = LIBRARY): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? libraryFiles(path) : path.endsWith(".ts") ? [path] : [];
  });
}

/** Every relative module a file imports (static, type-only, re-exports and dynamic), as paths of .ts files. */
export function importsOf(file: string, source = readFileSync(file, "utf8")): string[] {
  const specifiers = [...source.matchAll(/(?:\bfrom\s*|\bimport\s*\(?\s*)["'](\.{1,2}\/[^"']+)["']/g)].map((m) => m[1]);
  return specifiers.map((s) => normalize(join(dirname(file), s.replace(/\.js$/, ".ts"))));
}

function layerOf(file: string): number {
  const top = relative(LIBRARY, file).split("/")[0];
  return LAYERS.indexOf(top as (typeof LAYERS)[number]);
}

/** A cycle in `graph` as the files along it, or null. */
export function findCycle(graph: ReadonlyMap<string, readonly string[]>): string[] | null {
  const state = new Map<string, "open" | "done">();
  const path: string[] = [];
  const visit = (node: string): string[] | null => {
    if (state.get(node) === "done") return null;
    if (state.get(node) === "open") return [...path.slice(path.indexOf(node)), node];
    state.set(node, "open");
    path.push(node);
    for (const next of graph.get(node) ?? []) {
      const cycle = visit(next);
      if (cycle) return cycle;
    }
    path.pop();
    state.set(node, "done");
    return null;
  };
  for (const node of graph.keys()) {
    const cycle = visit(node);
    if (cycle) return cycle;
  }
  return null;
}

const files = libraryFiles();
const graph = new Map(files.map((file) => [file, importsOf(file)]));

test("every library file sits in a layer's folder", () => {
  assert.deepEqual(files.filter((file) => layerOf(file) < 0), []);
});

test("the library imports only from its own layer or lower ones, and never from pages or ui/", () => {
  const upward = [...graph].flatMap(([file, imports]) =>
    imports.filter((target) => !target.startsWith(`${LIBRARY}/`) || layerOf(target) > layerOf(file)).map((target) => `${file} → ${target}`),
  );
  assert.deepEqual(upward, []);
});

test("no library files import each other in a cycle", () => {
  assert.equal(findCycle(graph)?.join(" → ") ?? null, null);
});

test("the checks catch what they are for", () => {
  // An import from a higher layer, an import outside the library, and a cycle.
  assert.deepEqual(importsOf(`${LIBRARY}/nn/mlp.ts`, 'import type { A } from "../jobs/x.js";\nimport("../../ui/y.js");'), [`${LIBRARY}/jobs/x.ts`, "src/ui/y.ts"]);
  assert.ok(layerOf(`${LIBRARY}/jobs/x.ts`) > layerOf(`${LIBRARY}/nn/mlp.ts`));
  assert.deepEqual(findCycle(new Map([["a", ["b"]], ["b", ["c"]], ["c", ["a"]]])), ["a", "b", "c", "a"]);
  assert.equal(findCycle(new Map([["a", ["b", "c"]], ["b", ["c"]], ["c", []]])), null);
});
