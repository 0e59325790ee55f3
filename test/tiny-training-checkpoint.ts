/** A small /cifar10 training checkpoint for tests of what the pages say about one (not a test file itself). */
import { writeTrainingCheckpoint } from "../src/components/image/image-checkpoint.ts";
import { DEFAULT_TRAINING_SETTINGS, plansFromSettings } from "../src/components/image/image-training-plans.ts";

/** A consistency-phase checkpoint at step 7 with one made-up tensor per group: only its metadata matter here. */
export function tinyTrainingCheckpoint(phase: "teacher" | "student" = "student"): Uint8Array<ArrayBuffer> {
  const { teacher, student } = plansFromSettings({ ...DEFAULT_TRAINING_SETTINGS, preset: "tiny" });
  const w = { "out.bias": { shape: [3], data: new Float32Array([0.1, 0.2, 0.3]) } };
  return writeTrainingCheckpoint({ phase, classes: [1], teacher, student, state: { iteration: 7, net: w, ema: w, optimizer: [] }, teacherWeights: phase === "student" ? w : null });
}

