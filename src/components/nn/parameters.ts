/**
 * Named network parameters. Each is a tf.Variable (so TF.js optimizers train it) registered under a
 * readable path like "enc.32x32.block0.conv0.weight", so a parameter list can be saved and loaded by name.
 */
import * as tf from "@tensorflow/tfjs";
import { createRng } from "../math/rng.js";
import type { NamedArray } from "../checkpoint/safetensors.js";


export type Initializer = (shape: number[], seed: number) => tf.Tensor;

/**
 * Random tensors come from sCM Lab's own seeded generator, not tf.random*: the same seed then gives the
 * same numbers on every backend, in Node and in the browser (and TF.js's seeded generator does not survive
 * Framework's bundling: its seedrandom import loses `alea`).
 */
export function seededTensor(shape: number[], seed: number, draw: (rng: ReturnType<typeof createRng>) => number): tf.Tensor {
  const rng = createRng(seed);
  const size = shape.reduce((a, b) => a * b, 1);
  const values = new Float32Array(size);
  for (let i = 0; i < size; i++) values[i] = draw(rng);
  return tf.tensor(values, shape);
}

/**
 * Uniform in ±gain·√(3/fanIn): unit output variance for unit-variance inputs (He/Kaiming uniform without
 * the ReLU factor), the scheme EDM's networks use. fanIn is every axis but the last.
 */
export function fanInUniform(gain = 1): Initializer {
  return (shape, seed) => {
    const fanIn = shape.slice(0, -1).reduce((a, b) => a * b, 1);
    const limit = gain * Math.sqrt(3 / fanIn);
    return seededTensor(shape, seed, (rng) => limit * (2 * rng.uniform() - 1));
  };
}

export const zeros: Initializer = (shape) => tf.zeros(shape);
export const ones: Initializer = (shape) => tf.ones(shape);
export const normal = (std: number): Initializer => (shape, seed) => seededTensor(shape, seed, (rng) => std * rng.normal());

export class ParameterSet {
  private readonly entries = new Map<string, { variable: tf.Variable; trainable: boolean }>();
  private nextSeed: number;

  /** @param seed makes initialisation reproducible: parameter k is drawn with seed + k */
  constructor(seed = 0) {
    this.nextSeed = seed;
  }

  create(name: string, shape: number[], init: Initializer, { trainable = true } = {}): tf.Variable {
    if (this.entries.has(name)) throw new Error(`parameter "${name}" is defined twice`);
    const initial = init(shape, this.nextSeed++);
    const variable = tf.variable(initial, trainable);
    initial.dispose();
    this.entries.set(name, { variable, trainable });
    return variable;
  }

  get(name: string): tf.Variable {
    const entry = this.entries.get(name);
    if (!entry) throw new Error(`no parameter named "${name}"`);
    return entry.variable;
  }

  names(): string[] {
    return [...this.entries.keys()];
  }

  /**
   * The variables an optimizer should update (fixed buffers such as Fourier frequencies excluded), optionally
   * without those whose name matches `exclude` (e.g. the logvar head when adaptive weighting is off).
   */
  trainableVariables(exclude?: (name: string) => boolean): tf.Variable[] {
    return [...this.entries].filter(([name, e]) => e.trainable && !exclude?.(name)).map(([, e]) => e.variable);
  }

  count(): number {
    return [...this.entries.values()].reduce((n, e) => n + e.variable.size, 0);
  }

  /** Copy every parameter out as plain float32 data. */
  async save(): Promise<Record<string, NamedArray>> {
    const out: Record<string, NamedArray> = {};
    for (const [name, { variable }] of this.entries) {
      out[name] = { shape: [...variable.shape], data: (await variable.data()) as Float32Array };
    }
    return out;
  }

  /**
   * Assign saved values by name. Every parameter must be present with its exact shape, and no unknown names
   * may appear, so a checkpoint from a different architecture fails with a message instead of half-loading.
   */
  load(saved: Record<string, NamedArray>): void {
    const problems: string[] = [];
    for (const [name, { variable }] of this.entries) {
      const entry = saved[name];
      if (!entry) problems.push(`missing "${name}"`);
      else if (!tf.util.arraysEqual(entry.shape, variable.shape)) problems.push(`"${name}" has shape [${entry.shape}], expected [${variable.shape}]`);
      else if (entry.data.length !== variable.size) problems.push(`"${name}" has ${entry.data.length} values, expected ${variable.size}`);
    }
    for (const name of Object.keys(saved)) if (!this.entries.has(name)) problems.push(`unexpected "${name}"`);
    if (problems.length > 0) throw new Error(`checkpoint does not fit this network: ${problems.slice(0, 5).join("; ")}${problems.length > 5 ? ` (and ${problems.length - 5} more)` : ""}`);
    for (const [name, { variable }] of this.entries) {
      tf.tidy(() => variable.assign(tf.tensor(saved[name].data, saved[name].shape)));
    }
  }

  dispose(): void {
    for (const { variable } of this.entries.values()) variable.dispose();
    this.entries.clear();
  }
}
