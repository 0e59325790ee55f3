import { test } from "node:test";
import assert from "node:assert/strict";
import { DEFAULT_TRAINING_SETTINGS, formatLearningRate, plansFromSettings, STUDENT_LEARNING_RATES, TEACHER_LEARNING_RATES } from "../src/components/image/image-training-plans.ts";
import { DEFAULT_UNET_CONFIG } from "../src/components/nn/unet-config.ts";
import { readScmLabUnetConfig, scmLabUnetMetadata } from "../src/components/nn/unet-checkpoint-metadata.ts";

test("teacher → sCD: Adam 1e-3 with dropout 0.13, then RAdam 1e-4 without dropout, paper proposal and c", () => {
  const { teacher, student } = plansFromSettings(DEFAULT_TRAINING_SETTINGS);
  assert.equal(teacher?.config.objective, "teacher");
  assert.equal(teacher?.config.optimizer, "adam");
  assert.equal(teacher?.config.learningRate, 1e-3);
  assert.equal(teacher?.config.network.dropout, 0.13);
  assert.equal(teacher?.steps, DEFAULT_TRAINING_SETTINGS.teacherSteps);
  assert.equal(student?.config.objective, "scd");
  assert.equal(student?.config.optimizer, "radam");
  assert.equal(student?.config.learningRate, 1e-4);
  assert.equal(student?.config.network.dropout, 0);
  assert.deepEqual(student?.config.proposal, { pMean: -1.0, pStd: 1.4 });
  assert.deepEqual(student?.config.scm.normalization, { kind: "l2", c: 0.1 });
  // Both phases share the architecture (the student starts from the teacher's weights) apart from dropout.
  assert.deepEqual({ ...teacher!.config.network, dropout: 0 }, student!.config.network);
  // A plan's network is a complete UNetConfig, as the checkpoint format requires.
  assert.deepEqual(readScmLabUnetConfig(scmLabUnetMetadata(student!.config.network)), student!.config.network);
});

test("the other recipes: sCT has dropout 0.2; from scratch has no teacher; teacher-only has no student; c = 0 turns normalisation off", () => {
  const sct = plansFromSettings({ ...DEFAULT_TRAINING_SETTINGS, recipe: "teacher-sct", tangentC: 0 });
  assert.equal(sct.student?.config.objective, "sct");
  assert.equal(sct.student?.config.network.dropout, 0.2);
  assert.deepEqual(sct.student?.config.scm.normalization, { kind: "off" });
  assert.equal(plansFromSettings({ ...DEFAULT_TRAINING_SETTINGS, recipe: "sct-scratch" }).teacher, null);
  assert.equal(plansFromSettings({ ...DEFAULT_TRAINING_SETTINGS, recipe: "teacher-only" }).student, null);
});

test("a teacher loaded from a file fixes the architecture and replaces the teacher phase", () => {
  const network = { ...DEFAULT_UNET_CONFIG, baseChannels: 48 };
  const { teacher, student } = plansFromSettings(DEFAULT_TRAINING_SETTINGS, network);
  assert.equal(teacher, null);
  assert.equal(student?.config.network.baseChannels, 48);
});

test("learning rates read as the paper writes them, never rounded to 0", () => {
  assert.deepEqual([1e-5, 3e-5, 1e-4, 2e-4, 5e-4, 1e-3, 2e-3].map(formatLearningRate), ["1e-5", "3e-5", "1e-4", "2e-4", "5e-4", "1e-3", "2e-3"]);
  assert.equal(formatLearningRate(1.5e-4), "1.5e-4");
  assert.equal(formatLearningRate(1), "1e0");
  assert.equal(formatLearningRate(0), "0");
  // Every value the form offers reads back as the number it shows, and no two look alike.
  for (const rates of [TEACHER_LEARNING_RATES, STUDENT_LEARNING_RATES]) {
    for (const rate of rates) assert.equal(Number(formatLearningRate(rate)), rate);
    assert.equal(new Set(rates.map(formatLearningRate)).size, rates.length);
  }
  assert.ok(TEACHER_LEARNING_RATES.includes(DEFAULT_TRAINING_SETTINGS.teacherLearningRate));
  assert.ok(STUDENT_LEARNING_RATES.includes(DEFAULT_TRAINING_SETTINGS.studentLearningRate));
});
