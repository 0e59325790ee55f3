import { test } from "node:test";
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { discreteRunParams, scalingRunParams, stabilizerRunParams } from "../src/components/jobs/live-run-params.ts";
import { mixturePreset } from "../src/components/toy/mixture-presets.ts";
import { PAPER_SETTINGS, PROPOSAL_STD, STABILIZER_DATA, STABILIZER_TRAINING } from "../src/components/toy/experiments/stabilizers.ts";
import { scalingConfig } from "../src/components/toy/experiments/scaling.ts";
import type { DiscreteFile, StabilizersFile } from "../src/components/toy/experiments/precomputed.ts";

const mixture = mixturePreset(STABILIZER_DATA.preset, STABILIZER_DATA.options);

test("scaling page: each live student trains the teacher of its width first, with the precomputed recipe", () => {
  for (const method of ["scd", "sct"] as const) {
    const params = scalingRunParams(mixture, 64, method, 300);
    assert.deepEqual(params.config, scalingConfig(64, method));
    assert.equal(params.steps, 300);
    // Both jobs train an identical teacher: same recipe and seed.
    assert.deepEqual(params.teacher, { kind: "train", config: scalingConfig(64, "teacher"), steps: STABILIZER_TRAINING.teacherSteps });
  }
});

test("discrete page: the live pair's precision reaches the targets' settings; float32 by default", async () => {
  const file = JSON.parse(await readFile("src/data/discrete.json", "utf8")) as DiscreteFile;
  assert.equal(discreteRunParams(file, mixture, "discrete", 64, 100).config.scm.precision, "float32");
  const half = discreteRunParams(file, mixture, "discrete", 4096, 100, "half");
  assert.equal(half.config.scm.precision, "half");
  assert.equal(half.config.discreteSteps, 4096);
  assert.equal(half.config.objective, "discrete");
  assert.equal(discreteRunParams(file, mixture, "scd", 4096, 100, "half").config.scm.precision, "half");
});

test("stabilizers page: P_mean from the form reaches the run's time proposal, P_std stays the paper's", async () => {
  const file = JSON.parse(await readFile("src/data/stabilizers.json", "utf8")) as StabilizersFile;
  const params = stabilizerRunParams(file, mixture, { ...PAPER_SETTINGS, proposalMean: 0.4 }, 100);
  assert.deepEqual(params.config.proposal, { pMean: 0.4, pStd: PROPOSAL_STD });
  assert.equal(PROPOSAL_STD, 1.4);
  assert.equal(stabilizerRunParams(file, mixture, PAPER_SETTINGS, 100).config.proposal.pMean, -1.0);
});
