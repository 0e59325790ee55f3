/**
 * Compare a safetensors header with the weights a UNet config declares, before any tensor byte is read:
 * a weights file that does not belong to its config.json fails in a second, not after a 1.18 GB download.
 * (UNet2DModel checks every arriving tensor again; this is the early warning.)
 */
import { CheckpointFormatError } from "../checkpoint/errors.js";
import type { SafetensorsHeader } from "../checkpoint/header.js";
import { canonicalWeightName, type WeightSpec } from "./unet2d/weights.js";

export class ConfigMismatchError extends CheckpointFormatError {
  override name = "ConfigMismatchError";
}

const shapeText = (shape: readonly number[]) => `[${shape.join(", ")}]`;
const sameShape = (a: readonly number[], b: readonly number[]) => a.length === b.length && a.every((n, i) => n === b[i]);

/** Throws one ConfigMismatchError listing the first problems: shapes that differ, weights missing, weights unexpected. */
export function checkHeaderAgainstSpecs(header: SafetensorsHeader, specs: readonly WeightSpec[]): void {
  const expected = new Map(specs.map((spec) => [spec.name, spec]));
  const seen = new Set<string>();
  const wrongShapes: string[] = [];
  const unexpected: string[] = [];
  for (const entry of header.tensors) {
    const name = canonicalWeightName(entry.name);
    const spec = expected.get(name);
    if (!spec) {
      unexpected.push(entry.name);
      continue;
    }
    seen.add(name);
    if (!sameShape(entry.shape, spec.shape)) wrongShapes.push(`${entry.name} is ${shapeText(entry.shape)} in the file but ${shapeText(spec.shape)} in the config`);
  }
  const missing = specs.filter((spec) => !seen.has(spec.name)).map((spec) => spec.name);
  const list = (items: string[]) => `${items.slice(0, 3).join("; ")}${items.length > 3 ? `; … (${items.length} in all)` : ""}`;
  const problems = [
    wrongShapes.length > 0 ? `shapes differ: ${list(wrongShapes)}` : "",
    missing.length > 0 ? `${missing.length} weight(s) missing from the file: ${list(missing)}` : "",
    unexpected.length > 0 ? `${unexpected.length} weight(s) the config does not have: ${list(unexpected)}` : "",
  ].filter(Boolean);
  if (problems.length > 0) throw new ConfigMismatchError(`the weights file does not fit this config.json (is it the config of another model?): ${problems.join(". ")}`);
}
