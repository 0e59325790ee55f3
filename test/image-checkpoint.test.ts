/**
 * What the pretrained page says about a /cifar10 training checkpoint (image-checkpoint.ts): it names the kind of
 * file, where it came from, and the two things to do with it, from the metadata alone.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { describeTrainingCheckpoint, readTrainingFile, TRAINING_METADATA_KEY, writeModel } from "../src/components/image/image-checkpoint.ts";
import { DEFAULT_TRAINING_SETTINGS, plansFromSettings } from "../src/components/image/image-training-plans.ts";
import { readSafetensors } from "../src/components/checkpoint/safetensors.ts";
import { tinyTrainingCheckpoint } from "./tiny-training-checkpoint.ts";

test("a training checkpoint is described as one, with its step and phase, and what to do instead", () => {
  const { metadata } = readSafetensors(tinyTrainingCheckpoint());
  const text = describeTrainingCheckpoint(metadata)!;
  assert.match(text, /^this is an sCM Lab training checkpoint from the \/cifar10 page \(step 7 of the sCD phase\)/);
  assert.match(text, /download its model file on \/cifar10 \("Download model": the EMA weights\)/);
  assert.match(text, /choose this file on \/cifar10 under "Or start from a file"/);
  assert.doesNotMatch(text, /diffusers|scm_lab_unet/);
  assert.match(describeTrainingCheckpoint(readSafetensors(tinyTrainingCheckpoint("teacher")).metadata)!, /\(step 7 of the teacher phase\)/);
  // Damaged details still name the kind of file.
  assert.match(describeTrainingCheckpoint({ [TRAINING_METADATA_KEY]: "{ not json" })!, /^this is an sCM Lab training checkpoint from the \/cifar10 page: the whole run/);
});

test("models and other files are not training checkpoints", () => {
  const model = writeModel(plansFromSettings(DEFAULT_TRAINING_SETTINGS).student!.config.network, {});
  assert.equal(readTrainingFile(model).kind, "model");
  assert.equal(describeTrainingCheckpoint(readSafetensors(model).metadata), null);
  assert.equal(describeTrainingCheckpoint({}), null);
});
