/**
 * The reference for the CIFAR-10 page's live runs: the same run in Node, step by step.
 *
 * A CIFAR-10 subset that the page and Node train on alike: the first `images` of each class file of the built
 * site, with a meta.json that describes exactly those (counts and SHA-256), served to the page by routes and
 * to Node's imageTrainJob by its fetch.
 *
 * Why: the training job starts once 64 images of each class have arrived and draws batches from whatever
 * has arrived, so on the full 15 MB files its batches depend on download timing. With 64 images per class the
 * data is complete before the first step, and a run depends only on its seed: the same run can be compared
 * step by step across backends.
 */
import { createHash } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import type { Page } from "playwright-core";
import { CIFAR10_IMAGE_BYTES, cifar10ClassFile, validateCifar10Meta } from "../../src/components/image/cifar10/dataset.ts";
import type { Fetch } from "../../src/components/image/class-file-streams.ts";
import { imageTrainJob, type ImageTrainParams, type ImageTrainPhase } from "../../src/components/jobs/image-jobs.ts";
import assert from "node:assert/strict";

export interface CifarSubset {
  /** response body by the file's base name in dist/ (e.g. "meta.f6e269ec.json", "class-1.d3170aeb.bin") */
  readonly bodies: Map<string, Uint8Array<ArrayBuffer>>;
}

const FILE = /\/_file\/data\/cifar10\/((?:meta|class-\d)\.[0-9a-f]+\.(?:json|bin))$/;

export function cifarSubset(images: number, dir = "dist/_file/data/cifar10"): CifarSubset {
  const names = readdirSync(dir);
  const metaName = names.find((n) => /^meta\.[0-9a-f]+\.json$/.test(n))!;
  const meta = validateCifar10Meta(JSON.parse(readFileSync(`${dir}/${metaName}`, "utf8")));
  const bodies = new Map<string, Uint8Array<ArrayBuffer>>();
  for (let c = 0; c < meta.perClass.length; c++) {
    const name = names.find((n) => n.startsWith(`class-${c}.`) && n.endsWith(".bin"))!;
    const bytes = new Uint8Array(readFileSync(`${dir}/${name}`)).slice(0, images * CIFAR10_IMAGE_BYTES);
    bodies.set(name, bytes);
    meta.perClass[c] = images;
    meta.sha256[cifar10ClassFile(c)] = createHash("sha256").update(bytes).digest("hex");
  }
  bodies.set(metaName, new TextEncoder().encode(JSON.stringify(meta)));
  return { bodies };
}

/** Serve the subset to the page and its workers in place of the built site's CIFAR-10 files. */
export async function routeCifarSubset(page: Page, subset: CifarSubset): Promise<void> {
  await page.context().route(FILE, (route) => {
    const body = subset.bodies.get(FILE.exec(new URL(route.request().url()).pathname)![1]);
    return body ? route.fulfill({ status: 200, body: Buffer.from(body) }) : route.continue();
  });
}

/** A fetch for Node's imageTrainJob that answers the site's CIFAR-10 URLs with the subset. */
export function subsetFetch(subset: CifarSubset): Fetch {
  return async (url) => {
    const match = FILE.exec(new URL(url).pathname);
    const body = match && subset.bodies.get(match[1]);
    if (!body) throw new Error(`not a CIFAR-10 file of the site: ${url}`);
    return new Response(body);
  };
}

interface PublishedSteps {
  params: ImageTrainParams;
  backend: string;
  points: { phase: ImageTrainPhase; iteration: number; loss: number; gradientNorm: number; stepMs?: number }[];
}

export interface StepComparison {
  /** |page − Node| / scale per step, in order: the loss's, then the gradient norm's (see relativeErrors) */
  lossErrors: number[];
  gradientNormErrors: number[];
  /** the page's seconds per step */
  stepSeconds: number[];
}

/**
 * |a − b| relative to b, except that values smaller than a thousandth of the run's largest |b| are compared on
 * that scale: the first sCD step's loss is exactly 0 (the student starts as the teacher, so σ_d·F⁻ − dx_t/dt = 0,
 * the warm-up factor is 0 and w = 0), and a GPU's round-off there is no relative error.
 */
export function relativeErrors(page: readonly number[], node: readonly number[]): number[] {
  const floor = 1e-3 * Math.max(...node.map(Math.abs));
  return page.map((p, i) => Math.abs(p - node[i]) / Math.max(Math.abs(node[i]), floor));
}

/**
 * The steps the page published (script[data-figure="cifar10-steps"]) against the same run in Node on TF.js's
 * CPU backend (the caller sets it), on the subset; the page must have been given the subset by routeCifarSubset.
 */
export async function compareStepsWithNode(page: Page, subset: CifarSubset): Promise<StepComparison> {
  const published = JSON.parse((await page.locator('script[data-figure="cifar10-steps"]').textContent())!) as PublishedSteps;
  // One image per sample grid instead of the page's eight: the steps compared do not depend on the samples (they
  // draw from their own seed), and in Node's CPU backend the grids took longer than the training (~150 s of it).
  const job = imageTrainJob({ ...published.params, autosave: null, sampleCount: 1 }, () => false, undefined, subsetFetch(subset));
  const reference: PublishedSteps["points"] = [];
  for (;;) {
    const { value, done } = await job.next();
    if (done) break;
    if (value.kind === "steps") reference.push(...value.reports.map((r) => ({ ...r, phase: value.phase })));
  }
  assert.deepEqual(published.points.map((p) => [p.phase, p.iteration]), reference.map((p) => [p.phase, p.iteration]), "the same steps");
  const errors = (key: "loss" | "gradientNorm") => relativeErrors(published.points.map((p) => p[key]), reference.map((p) => p[key]));
  return { lossErrors: errors("loss"), gradientNormErrors: errors("gradientNorm"), stepSeconds: published.points.map((p) => (p.stepMs ?? NaN) / 1000) };
}

/** One line for the test log: each step's relative errors. */
export function describeSteps(steps: StepComparison): string {
  const format = (errors: number[]) => errors.map((e) => e.toExponential(1)).join(", ");
  const seconds = steps.stepSeconds.map((s) => s.toFixed(1)).join(", ");
  return `relative error per step, loss: ${format(steps.lossErrors)}; gradient norm: ${format(steps.gradientNormErrors)}; seconds per step on the page: ${seconds}`;
}

/**
 * The CPU backend runs Node's kernels: every step's loss and gradient norm equal to round-off. A GPU backend
 * computes in float32 in another order, with its own sin/cos/exp (~2⁻¹¹ absolute); over a few Adam steps the
 * runs stay within GPU_STEP_TOLERANCE (measured on SwiftShader: at most 1.0e-4 on WebGPU over 3 steps and 8.1e-3 on
 * WebGL over 5; the tests log each step). A broken backend is far outside it (zeros read back give a loss of the
 * data's variance, or NaN).
 */
export const GPU_STEP_TOLERANCE = 0.05;

export function expectStepsLikeNode(steps: StepComparison, backend: string): void {
  const tolerance = backend === "cpu" ? 1e-5 : GPU_STEP_TOLERANCE;
  for (const [name, errors] of [["loss", steps.lossErrors], ["gradient norm", steps.gradientNormErrors]] as const) {
    errors.forEach((e, i) => assert.ok(e <= tolerance, `step ${i + 1}: ${name} differs from Node's by ${e} (relative; tolerance ${tolerance})`));
  }
}
