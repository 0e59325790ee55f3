/**
 * Every control's setting in the page's address, so that a link reproduces a view: `?data=ring&modes=3&t=0.7`.
 *
 * A page makes each control through `urlInput(key, codec, fallback, make)`: the control starts from the address's
 * value when it is valid (otherwise from `fallback`, and the ignored value is listed in the page's share bar),
 * and every change rewrites the address with history.replaceState (debounced: dragging a slider must neither
 * flood the history nor trip the browser's navigation throttle). A setting equal to its fallback leaves the
 * address, so links stay short. "Try this" steps (share-view.ts) apply settings through the same registry.
 *
 * The codecs are plain functions of strings (tested in Node); the rest touches `location` and `history`.
 */

/** Reads a setting from its text in the address (undefined and a reason when it is invalid) and writes it back. */
export interface Codec<T> {
  parse(text: string): { value: T } | { reason: string };
  format(value: T): string;
}

/** A short decimal: a slider's 0.30000000000000004 reads 0.3 in the address. */
function formatNumber(value: number): string {
  return String(Number(value.toPrecision(6)));
}

export function numberIn(min: number, max: number): Codec<number> {
  return {
    parse(text) {
      const value = Number(text);
      if (text.trim() === "" || !Number.isFinite(value)) return { reason: "not a number" };
      if (value < min || value > max) return { reason: `outside ${formatNumber(min)}…${formatNumber(max)}` };
      return { value };
    },
    format: formatNumber,
  };
}

export function integerIn(min: number, max: number): Codec<number> {
  const number = numberIn(min, max);
  return {
    parse(text) {
      const parsed = number.parse(text);
      if ("value" in parsed && !Number.isInteger(parsed.value)) return { reason: "not a whole number" };
      return parsed;
    },
    format: formatNumber,
  };
}

/** One of a fixed list of options (strings or numbers), written as the option itself. */
export function oneOf<T extends string | number>(options: readonly T[]): Codec<T> {
  return {
    parse(text) {
      const found = options.find((option) => String(option) === text);
      return found === undefined ? { reason: `not one of ${options.join(", ")}` } : { value: found };
    },
    format: String,
  };
}

/** Any subset of a fixed list, comma-separated, in the list's order ("" is the empty set). */
export function someOf<T extends string | number>(options: readonly T[]): Codec<T[]> {
  const one = oneOf(options);
  return {
    parse(text) {
      if (text === "") return { value: [] };
      const chosen = new Set<T>();
      for (const part of text.split(",")) {
        const parsed = one.parse(part);
        if ("reason" in parsed) return { reason: `${part} is ${parsed.reason}` };
        chosen.add(parsed.value);
      }
      return { value: options.filter((option) => chosen.has(option)) };
    },
    format: (values) => options.filter((option) => values.includes(option)).join(","),
  };
}

export const onOff: Codec<boolean> = {
  parse(text) {
    if (text === "on" || text === "1" || text === "true") return { value: true };
    if (text === "off" || text === "0" || text === "false") return { value: false };
    return { reason: "not on or off" };
  },
  format: (value) => (value ? "on" : "off"),
};

/** An address parameter that was not used, and why (shown quietly beside the page's share button). */
export interface IgnoredSetting {
  key: string;
  text: string;
  reason: string;
}

/** Parameters that are not controls' settings but are read elsewhere (runtime/backend.ts reads ?backend=). */
const OTHER_KEYS = new Set(["backend"]);

/** The setting the address gives for `key`, or undefined (absent or invalid; invalid ones are returned too). */
export function settingFrom<T>(search: string, key: string, codec: Codec<T>): { value?: T; ignored?: IgnoredSetting } {
  const text = new URLSearchParams(search).get(key);
  if (text === null) return {};
  const parsed = codec.parse(text);
  return "value" in parsed ? { value: parsed.value } : { ignored: { key, text, reason: parsed.reason } };
}

/** The address's query after writing `settings` into `search` (a setting equal to its default is removed). */
export function withSettings(search: string, settings: ReadonlyMap<string, string | null>): string {
  const params = new URLSearchParams(search);
  for (const [key, text] of settings) {
    if (text === null) params.delete(key);
    else params.set(key, text);
  }
  const query = params.toString().replaceAll("%2C", ",");
  return query === "" ? "" : `?${query}`;
}

/** The query of a view given by `settings` alone: the address's other parameters (?backend=) are kept. */
export function querySettingOnly(search: string, settings: Readonly<Record<string, string>>): string {
  const kept = [...new URLSearchParams(search)].filter(([key]) => OTHER_KEYS.has(key));
  return withSettings(new URLSearchParams(kept).toString(), new Map(Object.entries(settings)));
}

// ---- The page's registry: the controls made by urlInput, and the address they write to ----

/** A control as the registry sees it: how to read its value, set it so that the page reacts, and hear it change. */
export interface Field<T> {
  get(): T;
  set(value: T): void;
  watch(onChange: () => void): void;
}
interface Binding {
  get(): unknown;
  set(value: unknown): void;
  codec: Codec<unknown>;
  fallback: unknown;
}
const bindings = new Map<string, Binding>();
const ignored = new Map<string, IgnoredSetting>();
const listeners = new Set<() => void>();
const pending = new Map<string, string | null>();
let flushTimer: ReturnType<typeof setTimeout> | undefined;

const notify = () => listeners.forEach((listener) => listener());

/** Write the pending settings into the address now (the copy button calls this before it reads the address). */
export function flushUrlState(): void {
  clearTimeout(flushTimer);
  flushTimer = undefined;
  if (pending.size === 0) return;
  const query = withSettings(location.search, pending);
  pending.clear();
  history.replaceState(history.state, "", `${location.pathname}${query}${location.hash}`);
}

function schedule(key: string, text: string | null): void {
  pending.set(key, text);
  clearTimeout(flushTimer);
  flushTimer = setTimeout(flushUrlState, 250);
}

function textOf(binding: Binding, value: unknown): string | null {
  const text = binding.codec.format(value);
  return text === binding.codec.format(binding.fallback) ? null : text;
}

/**
 * A control whose setting lives in the address under `key`. `make` builds it from its first value (the
 * address's, when valid, else `fallback`); it must be an Observable-Inputs-style element: a `value`
 * property and an "input" event on change. A cell that runs again makes its control again, and the new one
 * starts from the address, so a setting survives the re-run.
 */
export function urlInput<T, E extends HTMLElement & { value: T }>(key: string, codec: Codec<T>, fallback: T, make: (value: T) => E): E {
  const input = make(startingValue(key, codec, fallback));
  register(key, codec, fallback, {
    get: () => input.value,
    set(next) {
      input.value = next;
      input.dispatchEvent(new Event("input", { bubbles: true }));
    },
    watch: (onChange) => input.addEventListener("input", onChange),
  });
  return input;
}

/**
 * A setting of hand-made controls (not one Inputs-style element): the caller says how to read and set it and
 * when it changed. Returns the first value (the address's when valid, else `fallback`), which the caller shows.
 */
export function urlField<T>(key: string, codec: Codec<T>, fallback: T, field: Field<T>): T {
  const value = startingValue(key, codec, fallback);
  register(key, codec, fallback, field);
  return value;
}

/** The address's value for `key` when it is valid, else `fallback` (and the invalid one is noted for the share bar). */
function startingValue<T>(key: string, codec: Codec<T>, fallback: T): T {
  const { value, ignored: invalid } = settingFrom(location.search, key, codec);
  if (invalid) ignored.set(key, invalid);
  else ignored.delete(key);
  return value ?? fallback;
}

function register<T>(key: string, codec: Codec<T>, fallback: T, field: Field<T>): void {
  const binding: Binding = { get: field.get, set: field.set as (value: unknown) => void, codec: codec as Codec<unknown>, fallback };
  bindings.set(key, binding);
  field.watch(() => schedule(key, textOf(binding, field.get())));
  notify();
}

/**
 * Apply settings given as address text (a "try this" step): every other control of the page returns to its
 * default, so a step always shows the same view. All settings are written into the address first, so that
 * controls a change makes a cell rebuild start from them; then each control that exists now is set and
 * announces the change.
 */
export function applySettings(settings: Readonly<Record<string, string>>): IgnoredSetting[] {
  const problems: IgnoredSetting[] = [];
  const parsed: [Binding, unknown][] = [];
  const writes = new Map<string, string | null>();
  for (const [key, binding] of bindings) {
    if (key in settings) continue;
    parsed.push([binding, binding.fallback]);
    writes.set(key, null);
  }
  for (const [key, text] of Object.entries(settings)) {
    const binding = bindings.get(key);
    if (!binding) {
      // Not made yet (its cell waits for another): the address carries it to the control when it appears.
      writes.set(key, text);
      continue;
    }
    const result = binding.codec.parse(text);
    if ("reason" in result) {
      problems.push({ key, text, reason: result.reason });
      continue;
    }
    parsed.push([binding, result.value]);
    writes.set(key, textOf(binding, result.value));
  }
  for (const key of writes.keys()) pending.delete(key);
  history.replaceState(history.state, "", `${location.pathname}${withSettings(location.search, writes)}${location.hash}`);
  for (const [binding, value] of parsed) {
    if (binding.codec.format(binding.get()) !== binding.codec.format(value)) binding.set(value);
  }
  return problems;
}

/** The address's settings that were ignored: invalid values, and keys no control of this page reads. */
export function ignoredSettings(): IgnoredSetting[] {
  const unknown = [...new URLSearchParams(location.search)]
    .filter(([key]) => !bindings.has(key) && !ignored.has(key) && !OTHER_KEYS.has(key))
    .map(([key, text]) => ({ key, text, reason: "not a setting of this page" }));
  return [...ignored.values(), ...unknown];
}

/** Call `listener` whenever a control registers (the share bar's notice redraws). Returns the unsubscriber. */
export function onUrlStateChange(listener: () => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}
