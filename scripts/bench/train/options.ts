/**
 * Command-line options of bench:train, shared by the orchestrator, the Node bundle and the browser page — so nothing
 * here may import a Node module: the browser page's bundle could not resolve it (node-main.ts parses argv).
 */
import type { UNetPresetName } from "../../../src/components/image/image-run-config.ts";
import type { TrainBenchOptions } from "./kernel.ts";
import type { OptionSpec } from "../../options.ts";

const PRESETS: UNetPresetName[] = ["tiny", "small", "base"];

/** The bench's size, as options of every entry point (the orchestrator, the Node bundle, the browser page). */
export const BENCH_OPTIONS = { preset: "value", batch: "value", steps: "value", warmup: "value", resolution: "value" } as const satisfies OptionSpec;

/** The bench's size from parsed arguments, checked. */
export function benchOptionsFrom(args: Map<string, string>, defaults: TrainBenchOptions): TrainBenchOptions {
  const integer = (name: string, fallback: number, min: number) => {
    const v = Number(args.get(name) ?? fallback);
    if (!Number.isInteger(v) || v < min) throw new Error(`--${name} must be an integer ≥ ${min} (got ${args.get(name)})`);
    return v;
  };
  const preset = (args.get("preset") ?? defaults.preset) as UNetPresetName;
  if (!PRESETS.includes(preset)) throw new Error(`--preset must be one of ${PRESETS.join(", ")} (got ${preset})`);
  const resolution = integer("resolution", defaults.resolution, 4);
  return { preset, batch: integer("batch", defaults.batch, 1), steps: integer("steps", defaults.steps, 1), warmup: integer("warmup", defaults.warmup, 1), resolution };
}
