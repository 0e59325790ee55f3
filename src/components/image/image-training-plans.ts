/**
 * From the training page's form to the two phases of a run (image-checkpoint.ts RunPlan): a TrigFlow
 * diffusion teacher, then sCD or sCT started from its EMA (§4.2, App. G.2), or sCT from scratch, or the teacher
 * alone. The paper's CIFAR-10 values are the defaults (image-run.ts defaultImageRunConfig); the form changes
 * only what a reader would want to try.
 */
import { DEFAULT_UNET_CONFIG, type UNetConfig } from "../nn/unet-config.js";
import { defaultImageRunConfig, UNET_PRESETS, type UNetPresetName } from "./image-run-config.js";
import type { RunPlan } from "./image-checkpoint.js";
import { PAPER_SCM, SCALED_WARMUP_ITERATIONS } from "../training/paper-settings.js";

export type Recipe = "teacher-scd" | "teacher-sct" | "sct-scratch" | "teacher-only";

export const RECIPES: Record<Recipe, string> = {
  "teacher-scd": "teacher, then sCD (distillation)",
  "teacher-sct": "teacher, then sCT (consistency training from its EMA)",
  "sct-scratch": "sCT from scratch (no teacher)",
  "teacher-only": "the teacher only (a diffusion model)",
};

export interface TrainingSettings {
  classes: number[];
  preset: UNetPresetName;
  recipe: Recipe;
  teacherSteps: number;
  studentSteps: number;
  batch: number;
  teacherLearningRate: number;
  studentLearningRate: number;
  /** c of the tangent normalisation g/(‖g‖ + c); 0 turns normalisation off */
  tangentC: number;
  warmupIterations: number;
  adaptiveWeighting: boolean;
  flip: boolean;
  seed: number;
}

export const DEFAULT_TRAINING_SETTINGS: TrainingSettings = {
  classes: [1],
  preset: "small",
  recipe: "teacher-scd",
  teacherSteps: 1000,
  studentSteps: 500,
  batch: 64,
  teacherLearningRate: 1e-3,
  studentLearningRate: 1e-4,
  tangentC: PAPER_SCM.normalization.c,
  warmupIterations: SCALED_WARMUP_ITERATIONS.images,
  adaptiveWeighting: PAPER_SCM.adaptiveWeighting,
  flip: true,
  seed: 0,
};

/** The learning rates the form offers for each phase (the defaults among them). */
export const TEACHER_LEARNING_RATES = [1e-4, 2e-4, 5e-4, 1e-3, 2e-3];
export const STUDENT_LEARNING_RATES = [1e-5, 3e-5, 1e-4, 3e-4, 1e-3];

/**
 * The teacher and consistency phases for these settings. `network` overrides the preset (a teacher loaded
 * from a file fixes the architecture, since the student starts from its weights).
 */
export function plansFromSettings(s: TrainingSettings, network?: UNetConfig): { teacher: RunPlan | null; student: RunPlan | null } {
  const architecture = (dropout: number): UNetConfig => ({ ...DEFAULT_UNET_CONFIG, ...(network ?? UNET_PRESETS[s.preset]), dropout, seed: s.seed });
  const plan = (objective: "teacher" | "sct" | "scd", steps: number): RunPlan => {
    const base = defaultImageRunConfig(objective, s.preset);
    const teacher = objective === "teacher";
    return {
      config: {
        ...base,
        network: architecture(base.network.dropout ?? 0),
        batch: s.batch,
        learningRate: teacher ? s.teacherLearningRate : s.studentLearningRate,
        scm: { normalization: s.tangentC > 0 ? { kind: "l2", c: s.tangentC } : { kind: "off" }, warmupIterations: s.warmupIterations, adaptiveWeighting: s.adaptiveWeighting },
        flip: s.flip,
        seed: s.seed,
      },
      steps,
    };
  };
  const teacherPhase = network ? null : s.recipe === "sct-scratch" ? null : plan("teacher", s.teacherSteps);
  const student = s.recipe === "teacher-only" ? null : plan(s.recipe === "teacher-scd" ? "scd" : "sct", s.studentSteps);
  return { teacher: teacherPhase, student };
}

/**
 * A learning rate as the paper writes it: 1e-4, 2e-4, 1e-3, 3e-5 (mantissa digits only as many as needed).
 * The form's selects would otherwise show toLocaleString's three decimals, where 1e-4 and 2e-4 both read "0".
 */
export function formatLearningRate(rate: number): string {
  if (rate === 0) return "0";
  if (!Number.isFinite(rate)) return String(rate);
  // toExponential() keeps every significant digit and no more; drop the "+" of positive exponents (1e+0 → 1e0).
  return rate.toExponential().replace("e+", "e");
}
