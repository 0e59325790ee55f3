/**
 * The weights of a diffusers UNet2DModel, declared from the config before any byte arrives and filled one
 * streamed tensor at a time.
 *
 * Every layer declares its parameters here under diffusers' state-dict name with PyTorch's shape, so one list
 * gives the parameter count (download size) up front, the shape check of each arriving tensor, and the
 * missing/unexpected report at the end. An arriving tensor is checked, put into TF.js layout on the CPU, and
 * uploaded at once, so the caller can drop its CPU copy. On any failure every uploaded tensor is disposed.
 */
import * as tf from "@tensorflow/tfjs";
import type { StreamedTensor } from "../../checkpoint/streamed-tensor.js";
import { describeError } from "../../checkpoint/errors.js";

/**
 * How a PyTorch tensor becomes a TF.js tensor:
 * - "conv":   nn.Conv2d weight [out, in, kh, kw] → [kh, kw, in, out] (TF.js convolutions are NHWC/HWIO only)
 * - "linear": nn.Linear weight [out, in] kept as is; layers multiply with matMul(x, W, false, true)
 * - "plain":  biases, norm scales, embedding tables: same layout
 */
export type WeightLayout = "conv" | "linear" | "plain";

export interface WeightSpec {
  /** diffusers' state-dict name, e.g. "down_blocks.1.attentions.0.to_q.weight" */
  name: string;
  /** shape in the checkpoint (PyTorch layout) */
  shape: number[];
  layout: WeightLayout;
}

export class WeightLoadError extends Error {}

/**
 * diffusers renamed the attention parameters of its old AttentionBlock (query/key/value/proj_attn) to those of
 * `Attention` (to_q/to_k/to_v/to_out.0) and converts old names on load (`_from_deprecated_attn_block`). Both
 * spellings are accepted; shapes are the same ([out, in] linears).
 */
const OLD_ATTENTION_NAMES: Record<string, string> = { query: "to_q", key: "to_k", value: "to_v", proj_attn: "to_out.0" };

export function canonicalWeightName(name: string): string {
  const match = /^(.*\.attentions\.\d+)\.(query|key|value|proj_attn)\.(weight|bias)$/.exec(name);
  return match ? `${match[1]}.${OLD_ATTENTION_NAMES[match[2]]}.${match[3]}` : name;
}

const size = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

/** [out, in, kh, kw] → [kh, kw, in, out], element by element on the CPU (one upload, no GPU temporary). */
export function torchConvToHwio(values: Float32Array, [out, inC, kh, kw]: number[]): Float32Array {
  const result = new Float32Array(values.length);
  for (let o = 0; o < out; o++) {
    for (let i = 0; i < inC; i++) {
      for (let y = 0; y < kh; y++) {
        for (let x = 0; x < kw; x++) result[((y * kw + x) * inC + i) * out + o] = values[((o * inC + i) * kh + y) * kw + x];
      }
    }
  }
  return result;
}

/**
 * TF.js's WebGPU and WebGL backends upload a new tensor lazily, on its first use, and keep its JS array until
 * then: a 1.2 GB checkpoint would sit in page memory until the first sample. Both backends (4.22) expose
 * uploadToGPU(dataId), which copies the values to the GPU now and drops the CPU array; the CPU backend has no such
 * method and keeps its array by design. A failing upload (out of GPU memory) throws here, inside accept().
 */
function uploadNow(tensor: tf.Tensor): void {
  const backend = tf.backend() as unknown as { uploadToGPU?: (dataId: object) => void };
  if (typeof backend.uploadToGPU === "function") backend.uploadToGPU(tensor.dataId);
}

function tfShape(spec: WeightSpec): number[] {
  if (spec.layout !== "conv") return spec.shape;
  const [out, inC, kh, kw] = spec.shape;
  return [kh, kw, inC, out];
}

export class Unet2DWeights {
  private readonly specs = new Map<string, WeightSpec>();
  private readonly loaded = new Map<string, { tensor: tf.Tensor; arrivedAs: string }>();
  private readonly unexpected: string[] = [];
  private failed: string | null = null;
  private ready = false;

  /** Declare a parameter (layers call this while the model is built; nothing is allocated). */
  declare(name: string, shape: number[], layout: WeightLayout): string {
    if (this.specs.has(name)) throw new Error(`weight "${name}" is declared twice`);
    if (layout === "conv" && shape.length !== 4) throw new Error(`conv weight "${name}" needs 4 dimensions`);
    this.specs.set(name, { name, shape, layout });
    return name;
  }

  /** All declared parameters, in declaration order (the model's forward order). */
  list(): WeightSpec[] {
    return [...this.specs.values()];
  }

  parameterCount(): number {
    let n = 0;
    for (const spec of this.specs.values()) n += size(spec.shape);
    return n;
  }

  /**
   * Check, convert and upload one tensor. A name the config does not declare is remembered and reported by
   * finish(); a wrong shape, a duplicate, or a failed upload disposes everything loaded so far and throws.
   */
  accept(t: StreamedTensor): void {
    if (this.failed) throw new WeightLoadError(`loading already failed: ${this.failed}`);
    if (this.ready) throw new WeightLoadError(`tensor ${t.name} arrived after loading finished`);
    try {
      const name = canonicalWeightName(t.name);
      const spec = this.specs.get(name);
      if (!spec) {
        this.unexpected.push(t.name);
        return;
      }
      const previous = this.loaded.get(name);
      if (previous) throw new WeightLoadError(`tensor ${name} arrives twice (as "${previous.arrivedAs}" and "${t.name}")`);
      if (!tf.util.arraysEqual(t.shape, spec.shape)) {
        throw new WeightLoadError(`tensor ${t.name} has shape [${t.shape.join(", ")}], the config expects [${spec.shape.join(", ")}]`);
      }
      if (t.values.length !== size(spec.shape)) throw new WeightLoadError(`tensor ${t.name} holds ${t.values.length} values, its shape [${t.shape.join(", ")}] needs ${size(spec.shape)}`);
      const values = spec.layout === "conv" ? torchConvToHwio(t.values, spec.shape) : t.values;
      const tensor = tf.tensor(values, tfShape(spec), "float32");
      this.loaded.set(name, { tensor, arrivedAs: t.name });
      uploadNow(tensor);
    } catch (error) {
      this.abort(error);
    }
  }

  /** Names declared but not (yet) loaded. */
  missing(): string[] {
    return [...this.specs.keys()].filter((name) => !this.loaded.has(name));
  }

  /** Throw one readable error if any weight is missing or unexpected (and free everything); otherwise the model is ready. */
  finish(): void {
    if (this.failed) throw new WeightLoadError(`loading already failed: ${this.failed}`);
    const missing = this.missing();
    const problems: string[] = [];
    const listed = (names: string[]) => `${names.slice(0, 6).join(", ")}${names.length > 6 ? `, … (${names.length} in all)` : ""}`;
    if (missing.length > 0) problems.push(`${missing.length} weight(s) missing: ${listed(missing)}`);
    if (this.unexpected.length > 0) problems.push(`${this.unexpected.length} unexpected weight(s) the config does not declare: ${listed(this.unexpected)}`);
    if (problems.length > 0) this.abort(new WeightLoadError(`the checkpoint does not fit the config: ${problems.join("; ")}`));
    this.ready = true;
  }

  /** True once finish() has passed and until dispose(). */
  isReady(): boolean {
    return this.ready;
  }

  get(name: string): tf.Tensor {
    const entry = this.loaded.get(name);
    if (!entry) throw new WeightLoadError(`weight ${name} is not loaded`);
    return entry.tensor;
  }

  /** Free every uploaded tensor. Safe to call more than once. */
  dispose(): void {
    for (const { tensor } of this.loaded.values()) tensor.dispose();
    this.loaded.clear();
    this.ready = false;
  }

  private abort(error: unknown): never {
    this.dispose();
    const message = describeError(error);
    this.failed = message;
    throw error instanceof WeightLoadError ? error : new WeightLoadError(`uploading weights failed, everything loaded so far was freed: ${message}`);
  }
}
