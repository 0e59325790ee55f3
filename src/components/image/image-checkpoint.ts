/**
 * Files of an image training run, in safetensors (never evaluated, only parsed; see safetensors.ts):
 *
 * - a training checkpoint resumes a run exactly: tensors "net/…", "ema/…", "optimizer/00000 <name>" (the
 *   optimiser's step count and moments, in order) and, in the consistency phase, "teacher/…" (the teacher's EMA);
 *   metadata "scm_lab_training" = JSON {format, phase, iteration, classes, teacher: RunPlan, student: RunPlan | null}.
 *   The browser's autosave (IndexedDB), its "download checkpoint" button and `npm run train` all write this.
 * - a model is the EMA weights alone with the "scm_lab_unet" metadata of unet2d/scm-lab-checkpoint.ts: the
 *   pretrained page samples it, and the training page can take it as a teacher.
 */
import { readSafetensors, writeSafetensors } from "../checkpoint/safetensors.js";
import type { NamedArray } from "../checkpoint/safetensors.js";
import { readScmLabUnetConfig, SCM_LAB_UNET_METADATA_KEY, scmLabUnetMetadata, ScmLabCheckpointError } from "../nn/unet-checkpoint-metadata.js";
import type { UNetConfig } from "../nn/unet-config.js";
import type { ImageRunState } from "./image-run.js";
import type { ImageRunConfig } from "./image-run-config.js";

export const TRAINING_METADATA_KEY = "scm_lab_training";
export const TRAINING_FORMAT = "sCM Lab training checkpoint v1";

/** One phase of a run: its configuration (the network complete) and its length. */
export interface RunPlan {
  config: ImageRunConfig & { network: UNetConfig };
  steps: number;
}

export interface TrainingCheckpoint {
  phase: "teacher" | "student";
  /** the CIFAR-10 classes trained on */
  classes: number[];
  /** the teacher phase (steps 0 when the teacher came from a file or the student trains from scratch) */
  teacher: RunPlan | null;
  student: RunPlan | null;
  /** the running phase's state */
  state: ImageRunState;
  /** the teacher's EMA weights, once the consistency phase has started */
  teacherWeights: Record<string, NamedArray> | null;
}

const pad = (i: number) => String(i).padStart(5, "0");

export function writeTrainingCheckpoint(c: TrainingCheckpoint): Uint8Array<ArrayBuffer> {
  const tensors: Record<string, NamedArray> = {};
  const put = (prefix: string, weights: Record<string, NamedArray>) => Object.entries(weights).forEach(([name, w]) => (tensors[`${prefix}/${name}`] = w));
  put("net", c.state.net);
  put("ema", c.state.ema);
  if (c.teacherWeights) put("teacher", c.teacherWeights);
  // Zero-padded positions keep the optimiser's order through safetensors' sorted names.
  c.state.optimizer.forEach(({ name, shape, data }, i) => (tensors[`optimizer/${pad(i)} ${name}`] = { shape, data }));
  const info = { format: TRAINING_FORMAT, phase: c.phase, iteration: c.state.iteration, classes: c.classes, teacher: c.teacher, student: c.student };
  return writeSafetensors(tensors, { [TRAINING_METADATA_KEY]: JSON.stringify(info) });
}

/**
 * The teacher saved in a consistency-phase checkpoint: its EMA weights and its architecture — from its plan, or,
 * when it came from a model file (no teacher plan), the student's, which started from its weights (dropout 0:
 * a teacher is evaluated without dropout).
 */
export function teacherOf(c: TrainingCheckpoint): { network: UNetConfig; weights: Record<string, NamedArray> } | null {
  if (!c.teacherWeights) return null;
  return { network: c.teacher?.config.network ?? { ...c.student!.config.network, dropout: 0 }, weights: c.teacherWeights };
}

/** The EMA weights as an sCM Lab UNet model file. */
export function writeModel(config: UNetConfig, emaWeights: Record<string, NamedArray>): Uint8Array<ArrayBuffer> {
  return writeSafetensors(emaWeights, scmLabUnetMetadata(config));
}

export type ImportedFile = { kind: "training"; checkpoint: TrainingCheckpoint } | { kind: "model"; config: UNetConfig; weights: Record<string, NamedArray> };

/** Read a file the reader dropped on the training page: a training checkpoint or a model. Errors say what is wrong. */
export function readTrainingFile(bytes: Uint8Array): ImportedFile {
  const { tensors, metadata } = readSafetensors(bytes);
  if (metadata[TRAINING_METADATA_KEY] !== undefined) return { kind: "training", checkpoint: parseTrainingCheckpoint(tensors, metadata[TRAINING_METADATA_KEY]) };
  const config = readScmLabUnetConfig(metadata);
  if (config) return { kind: "model", config, weights: tensors };
  throw new ScmLabCheckpointError(`this safetensors file is neither an sCM Lab training checkpoint nor an sCM Lab model (its metadata has no "${TRAINING_METADATA_KEY}" or "${SCM_LAB_UNET_METADATA_KEY}")`);
}

/**
 * If these safetensors metadata are a training checkpoint's, what the file is and what to do with it, as the
 * end of a sentence for the pretrained page (which samples models, not runs); else null. Read from the
 * metadata alone, so the page can say it before a tensor byte is read; a damaged description still names
 * the kind of file.
 */
export function describeTrainingCheckpoint(metadata: Record<string, string>): string | null {
  const raw = metadata[TRAINING_METADATA_KEY];
  if (raw === undefined) return null;
  let where = "";
  try {
    const info = JSON.parse(raw) as { phase?: unknown; iteration?: unknown; student?: { config?: { objective?: unknown } } | null };
    const objective = info.student?.config?.objective;
    const phase = info.phase === "teacher" ? "the teacher phase" : info.phase === "student" ? `the ${objective === "sct" ? "sCT" : objective === "scd" ? "sCD" : "consistency"} phase` : null;
    if (phase && typeof info.iteration === "number") where = ` (step ${info.iteration} of ${phase})`;
  } catch {
    // The kind is known from the key; the details are only a courtesy.
  }
  return (
    `this is an sCM Lab training checkpoint from the /cifar10 page${where}: the whole run (weights, EMA, optimiser state and the teacher), which resumes training but is not a model this page samples. ` +
    `To sample the run here, download its model file on /cifar10 ("Download model": the EMA weights) and choose that; to continue training, choose this file on /cifar10 under "Or start from a file"`
  );
}

function parseTrainingCheckpoint(tensors: Record<string, NamedArray>, raw: string): TrainingCheckpoint {
  let info: Record<string, unknown>;
  try {
    info = JSON.parse(raw) as Record<string, unknown>;
  } catch {
    throw new ScmLabCheckpointError(`metadata "${TRAINING_METADATA_KEY}" is not JSON`);
  }
  if (info?.format !== TRAINING_FORMAT) throw new ScmLabCheckpointError(`unknown training checkpoint format ${JSON.stringify(info?.format)} (this version reads "${TRAINING_FORMAT}")`);
  const phase = info.phase;
  if (phase !== "teacher" && phase !== "student") throw new ScmLabCheckpointError(`the checkpoint's phase is ${JSON.stringify(phase)}`);
  const iteration = info.iteration;
  if (typeof iteration !== "number" || !Number.isInteger(iteration) || iteration < 0) throw new ScmLabCheckpointError(`the checkpoint's iteration is ${JSON.stringify(iteration)}`);
  const classes = info.classes;
  if (!Array.isArray(classes) || classes.length === 0 || !classes.every((c) => Number.isInteger(c) && c >= 0 && c < 10)) throw new ScmLabCheckpointError("the checkpoint's classes are not a list of CIFAR-10 class indices");
  const teacher = info.teacher === null ? null : parsePlan(info.teacher, "teacher");
  const student = info.student === null ? null : parsePlan(info.student, "student");
  if (!(phase === "teacher" ? teacher : student)) throw new ScmLabCheckpointError(`the checkpoint is in its ${phase} phase but has no ${phase} plan`);

  const group = (prefix: string) => {
    const out: Record<string, NamedArray> = {};
    for (const [name, w] of Object.entries(tensors)) if (name.startsWith(`${prefix}/`)) out[name.slice(prefix.length + 1)] = w;
    return out;
  };
  const optimizer = Object.keys(tensors)
    .filter((n) => n.startsWith("optimizer/"))
    .sort()
    .map((n) => ({ name: n.slice("optimizer/".length + 6), ...tensors[n] }));
  const teacherWeights = group("teacher");
  return {
    phase, classes: classes as number[], teacher, student,
    state: { iteration, net: group("net"), ema: group("ema"), optimizer },
    teacherWeights: Object.keys(teacherWeights).length > 0 ? teacherWeights : null,
  };
}

const OBJECTIVES = ["teacher", "sct", "scd"];

/** Check a stored plan field by field: the file is data from anywhere, and the worker builds networks from it. */
function parsePlan(raw: unknown, what: string): RunPlan {
  const plan = raw as { config?: Record<string, unknown>; steps?: unknown } | null;
  const fail = (detail: string): never => {
    throw new ScmLabCheckpointError(`the checkpoint's ${what} plan: ${detail}`);
  };
  if (!plan || typeof plan !== "object" || !plan.config || typeof plan.config !== "object") return fail("missing");
  const c = plan.config;
  if (typeof plan.steps !== "number" || !Number.isInteger(plan.steps) || plan.steps < 0) fail(`steps ${JSON.stringify(plan.steps)}`);
  if (!OBJECTIVES.includes(c.objective as string)) fail(`objective ${JSON.stringify(c.objective)}`);
  if (c.optimizer !== "adam" && c.optimizer !== "radam") fail(`optimizer ${JSON.stringify(c.optimizer)}`);
  for (const key of ["batch", "learningRate", "emaHalfLife", "seed"]) if (typeof c[key] !== "number" || !Number.isFinite(c[key] as number) || (c[key] as number) < 0) fail(`${key} ${JSON.stringify(c[key])}`);
  if (!Number.isInteger(c.batch) || (c.batch as number) < 1 || (c.batch as number) > 4096) fail(`batch ${c.batch}`);
  if (typeof c.flip !== "boolean") fail("flip is not a boolean");
  const proposal = c.proposal as Record<string, unknown> | undefined;
  if (!proposal || typeof proposal.pMean !== "number" || typeof proposal.pStd !== "number") fail("the time proposal");
  const scm = c.scm as Record<string, unknown> | undefined;
  const normalization = scm?.normalization as Record<string, unknown> | undefined;
  if (!scm || typeof scm.warmupIterations !== "number" || typeof scm.adaptiveWeighting !== "boolean" || !normalization || !["l2", "clip", "off"].includes(normalization.kind as string)) fail("the sCM settings");
  const network = readScmLabUnetConfig({ [SCM_LAB_UNET_METADATA_KEY]: JSON.stringify({ format: "sCM Lab UNet v1", config: c.network }) });
  return { config: { ...(c as unknown as ImageRunConfig), network: network! }, steps: plan.steps as number };
}
