/**
 * Comparisons in words, computed from the numbers a page shows: "1.8× worse", "0.62× (better)", "a tie". A
 * difference no larger than the two numbers' spreads together is a tie, whatever its ratio.
 *
 * A configuration's value is its mean over the seeds it was trained with, and its spread is the sample standard
 * deviation over those seeds (n − 1 in the denominator). The standard deviation, not the standard error of the
 * mean: it says how far one rerun with another seed lands, the variation a reader who trains a run sees, and
 * with 4 seeds the tie rule |a − b| ≤ sd_a + sd_b then calls a difference only when it is about three standard
 * errors of the difference of the means (≈ 2.8 for equal spreads) — a conservative test, which a page's word
 * "better" or "worse" should be.
 */

/** A value with its spread: the half-width of the band it is known to within (over seeds: mean ± sd). */
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

/** The mean of the values and their sample standard deviation over seeds (0 for a single value: no spread known). */
export function overSeeds(values: readonly number[]): Measured {
  if (values.length === 0) throw new RangeError("no seeds: a mean over seeds needs at least one value");
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  if (values.length === 1) return { value: mean, spread: 0 };
  const variance = values.reduce((a, b) => a + (b - mean) ** 2, 0) / (values.length - 1);
  return { value: mean, spread: Math.sqrt(variance) };
}

/** One seed's quality curve, as the precomputed files hold it (precomputed.ts SeedRun). */
export interface SeedQuality {
  quality: readonly { iteration: number; oneStep: number; twoStep: number }[];
}

/**
 * Mean and spread over seeds at each measurement, for the band of a quality chart. Every seed is measured at the
 * same steps; a seed that stopped early (a non-finite loss) has no value past its end, so later points average
 * the seeds that reached them (`seeds` says how many).
 */
export function qualityCurveOverSeeds(seeds: readonly SeedQuality[], which: "oneStep" | "twoStep"): (Measured & { iteration: number; seeds: number })[] {
  const iterations = [...new Set(seeds.flatMap((s) => s.quality.map((q) => q.iteration)))].sort((a, b) => a - b);
  return iterations.map((iteration) => {
    const values = seeds.flatMap((s) => s.quality.filter((q) => q.iteration === iteration).map((q) => q[which]));
    return { iteration, seeds: values.length, ...overSeeds(values) };
  });
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

/** A configuration's final 1- and 2-step quality over its seeds: each seed's last measurement, then mean ± sd. */
export function finalQuality(label: string, seeds: readonly SeedQuality[]): QualityRow {
  const last = seeds.map((s) => {
    const final = s.quality.at(-1);
    if (!final) throw new RangeError(`${label}: a seed with no measurements has no final quality`);
    return final;
  });
  return { label, oneStep: overSeeds(last.map((q) => q.oneStep)), twoStep: overSeeds(last.map((q) => q.twoStep)) };
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
