/**
 * The one command-line parser of every script: `--name value` options and `--flag`s, strict. An unknown or
 * misspelt option is an error that names the closest valid one (`--hiden` → "did you mean --hidden?"), so a typo
 * never silently runs the defaults. Built on node:util's parseArgs.
 */
import { parseArgs } from "node:util";

/** Each option's kind: "value" takes the next argument, "flag" stands alone. */
export type OptionSpec = Readonly<Record<string, "value" | "flag">>;

/** A command-line mistake, worded for the person who typed it. */
export class UsageError extends Error {
  override name = "UsageError";
}

/** Parsed options: each value by name; a flag that was given maps to "true". */
export function parseOptions(argv: readonly string[], spec: OptionSpec): Map<string, string> {
  return parse(argv, spec, false).options;
}

/** Options as parseOptions, and the other arguments (e.g. page paths) in order. */
export function parseOptionsAndArguments(argv: readonly string[], spec: OptionSpec): { options: Map<string, string>; positionals: string[] } {
  return parse(argv, spec, true);
}

function parse(argv: readonly string[], spec: OptionSpec, allowPositionals: boolean): { options: Map<string, string>; positionals: string[] } {
  const options = Object.fromEntries(Object.entries(spec).map(([name, kind]) => [name, { type: kind === "flag" ? ("boolean" as const) : ("string" as const) }]));
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({ args: joinNegativeNumbers(argv, spec), options, strict: true, allowPositionals });
  } catch (error) {
    throw new UsageError(explain(error as Error & { code?: string }, spec));
  }
  const values = new Map<string, string>();
  for (const [name, value] of Object.entries(parsed.values)) {
    if (Array.isArray(value)) continue; // no option is declared `multiple`
    if (value !== undefined) values.set(name, String(value));
  }
  return { options: values, positionals: parsed.positionals };
}

/** `--p-mean -1.2` as `--p-mean=-1.2`: node:util would take "-1.2" for an option. */
function joinNegativeNumbers(argv: readonly string[], spec: OptionSpec): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const next = argv[i + 1];
    if (spec[argv[i].replace(/^--/, "")] === "value" && next !== undefined && /^-\d|^-\.\d/.test(next)) out.push(`${argv[i]}=${argv[++i]}`);
    else out.push(argv[i]);
  }
  return out;
}

function explain(error: Error & { code?: string }, spec: OptionSpec): string {
  const names = Object.keys(spec);
  // node:util quotes the argument it stopped at: "Unknown option '--hiden'", "Option '--steps <value>' argument missing".
  const quoted = error.message.match(/'([^']*)'/)?.[1] ?? "";
  const name = quoted.replace(/^-+/, "").split(/[ =]/)[0];
  switch (error.code) {
    case "ERR_PARSE_ARGS_UNKNOWN_OPTION": {
      const closest = closestName(name, names);
      return `unknown option ${quoted}${closest ? `; did you mean --${closest}?` : ""} (${names.length > 0 ? `options: ${names.map((n) => `--${n}`).join(" ")}` : "it takes no options"})`;
    }
    case "ERR_PARSE_ARGS_INVALID_OPTION_VALUE":
      return spec[name] === "flag" ? `--${name} takes no value` : `--${name} needs a value`;
    case "ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL":
      return `unexpected argument "${quoted}" (options are written --name value)`;
    default:
      return error.message;
  }
}

/** The valid name nearest to `name` within edit distance max(2, a third of its length); null if none. */
export function closestName(name: string, names: readonly string[]): string | null {
  let best: string | null = null;
  let bestDistance = Math.max(2, Math.floor(name.length / 3)) + 1;
  for (const candidate of names) {
    const d = editDistance(name.toLowerCase(), candidate.toLowerCase());
    if (d < bestDistance) [best, bestDistance] = [candidate, d];
  }
  return best;
}

/** Levenshtein distance (insertions, deletions, substitutions). */
export function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) row[j] = Math.min(previous[j] + 1, row[j - 1] + 1, previous[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    previous = row;
  }
  return previous[b.length];
}

/** End a script with one line on stderr, "tool: message", and exit status 1. */
export function exitWithError(tool: string, message: string): never {
  console.error(`${tool}: ${message}`);
  process.exit(1);
}

/** parseOptions on this process's arguments; a mistake ends the script with its message. */
export function parseCommandLine(tool: string, spec: OptionSpec, argv: readonly string[] = process.argv.slice(2)): Map<string, string> {
  return exitOnUsageError(tool, () => parseOptions(argv, spec));
}

/** parseOptionsAndArguments on this process's arguments; a mistake ends the script with its message. */
export function parseCommandLineAndArguments(tool: string, spec: OptionSpec, argv: readonly string[] = process.argv.slice(2)): { options: Map<string, string>; positionals: string[] } {
  return exitOnUsageError(tool, () => parseOptionsAndArguments(argv, spec));
}

function exitOnUsageError<T>(tool: string, parse: () => T): T {
  try {
    return parse();
  } catch (error) {
    if (error instanceof UsageError) exitWithError(tool, error.message);
    throw error;
  }
}
