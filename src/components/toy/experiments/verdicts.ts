/**
 * Comparisons in words, computed from the numbers a page shows: "1.8× worse", "0.62× (better)", "a tie". A
 * difference no larger than the two numbers' spreads together is a tie, whatever its ratio.
 *
 * The spread of a run's final quality is, for now, how far its own last measurements wander: half the range
 * of the last END_WINDOW of them (150 steps at one measurement every 50). A run repeated over seeds would give
 * a better spread; until the pages have that, this is the noise every verdict is judged against.
 */

/** A value with its spread (the half-width of the band it is known to within). */
export interface Measured {
  value: number;
  spread: number;
}

export type Verdict = "better" | "worse" | "tie";

export interface Comparison {
  verdict: Verdict;
  /** value / reference */
  ratio: number;
}

/** How many of a run's last measurements its final value's spread is taken over. */
export const END_WINDOW = 4;

/** The last value of a series and half the range of its last `window` values. */
export function finalValue(series: readonly number[], window = END_WINDOW): Measured {
  if (series.length === 0) throw new RangeError("a series with no values has no final value");
  const tail = series.slice(-window);
  return { value: series[series.length - 1], spread: (Math.max(...tail) - Math.min(...tail)) / 2 };
}

/** Compare a lower-is-better quantity (a distance) with a reference; inside both spreads it is a tie. */
export function compareLowerIsBetter(value: Measured, reference: Measured): Comparison {
  const ratio = value.value / reference.value;
  const difference = value.value - reference.value;
  if (!Number.isFinite(value.value)) return { verdict: "worse", ratio };
  if (Math.abs(difference) <= value.spread + reference.spread) return { verdict: "tie", ratio };
  return { verdict: difference < 0 ? "better" : "worse", ratio };
}

/** "1.84× worse", "0.62× (better)", or "a tie (1.03×, inside the spread)". */
export function describeComparison({ verdict, ratio }: Comparison): string {
  const times = `${ratio.toFixed(ratio >= 10 ? 0 : 2)}×`;
  if (verdict === "tie") return `a tie (${times}, inside the spread)`;
  return verdict === "worse" ? `${times} worse` : `${times} (better)`;
}

export interface QualityRow {
  label: string;
  oneStep: Measured;
  twoStep: Measured;
}

/** One sentence about several variants against a reference, in 1- and 2-step quality. */
export function ablationConclusion(reference: QualityRow, variants: readonly QualityRow[]): string {
  const verdicts = variants.map((row) => ({
    label: row.label,
    both: [compareLowerIsBetter(row.oneStep, reference.oneStep).verdict, compareLowerIsBetter(row.twoStep, reference.twoStep).verdict],
  }));
  const named = (rows: typeof verdicts) => rows.map((r) => r.label).join(", ");
  const worse = verdicts.filter((r) => r.both.includes("worse") && !r.both.includes("better"));
  const better = verdicts.filter((r) => r.both.includes("better") && !r.both.includes("worse"));
  const mixed = verdicts.filter((r) => r.both.includes("better") && r.both.includes("worse"));
  const ties = verdicts.filter((r) => r.both.every((v) => v === "tie"));
  const parts = [
    worse.length > 0 ? `worse than ${reference.label}: ${named(worse)}` : null,
    better.length > 0 ? `better than ${reference.label}: ${named(better)}` : null,
    mixed.length > 0 ? `better in one of 1-step and 2-step quality and worse in the other: ${named(mixed)}` : null,
    ties.length > 0 ? `a tie with ${reference.label} (every difference inside the spread): ${named(ties)}` : null,
  ].filter((p): p is string => p !== null);
  const sentence = parts.join("; ");
  return `${sentence[0].toUpperCase()}${sentence.slice(1)}.`;
}

/** A run's final 1- and 2-step quality with their spreads, from its measurements in order. */
export function finalQuality(label: string, evaluations: readonly { oneStep: number; twoStep: number }[]): QualityRow {
  return { label, oneStep: finalValue(evaluations.map((e) => e.oneStep)), twoStep: finalValue(evaluations.map((e) => e.twoStep)) };
}

/** "better than N = 4, N = 8; a tie with N = 16; worse than N = 4096": one subject against each of several others. */
export function versusEach(subject: Measured, others: readonly { label: string; measured: Measured }[]): string {
  const groups: Record<Verdict, string[]> = { better: [], tie: [], worse: [] };
  for (const other of others) groups[compareLowerIsBetter(subject, other.measured).verdict].push(other.label);
  return [
    groups.better.length > 0 ? `better than ${groups.better.join(", ")}` : null,
    groups.tie.length > 0 ? `a tie with ${groups.tie.join(", ")}` : null,
    groups.worse.length > 0 ? `worse than ${groups.worse.join(", ")}` : null,
  ]
    .filter((p) => p !== null)
    .join("; ");
}
