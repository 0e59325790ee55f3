/** Command-line options of bench:train, shared by the orchestrator, the Node bundle and the browser page. */
import type { UNetPresetName } from "../../src/components/image/image-run-config.ts";
import type { TrainBenchOptions } from "./kernel.ts";

const PRESETS: UNetPresetName[] = ["tiny", "small", "base"];

/** Parse `--name value` pairs (unknown names are errors: a typo must not silently bench something else). */
export function parseArgs(argv: string[], known: string[], flags: string[] = []): Map<string, string> {
  const args = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (!a.startsWith("--")) throw new Error(`unexpected argument "${a}"`);
    const name = a.slice(2);
    if (flags.includes(name)) {
      args.set(name, "true");
      continue;
    }
    if (!known.includes(name)) throw new Error(`unknown option --${name} (known: ${[...known, ...flags].map((k) => `--${k}`).join(", ")})`);
    if (i + 1 >= argv.length) throw new Error(`--${name} needs a value`);
    args.set(name, argv[++i]);
  }
  return args;
}

export const BENCH_OPTION_NAMES = ["preset", "batch", "steps", "warmup", "resolution"];

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

/** Options of the Node bundle: the size, one backend, and --json. */
export function parseBenchOptions(argv: string[], defaults: TrainBenchOptions, backends: string[]): { options: TrainBenchOptions; backend: string; json: boolean } {
  const args = parseArgs(argv, [...BENCH_OPTION_NAMES, "backend"], ["json"]);
  const backend = args.get("backend") ?? backends.at(-1)!;
  if (!backends.includes(backend)) throw new Error(`--backend must be one of ${backends.join(", ")} (got ${backend})`);
  return { options: benchOptionsFrom(args, defaults), backend, json: args.has("json") };
}
