/**
 * Comparisons in words, computed from the numbers a page shows: "1.8× worse", "0.62× (better)", "a tie". A
 * difference no larger than the two numbers' spreads together is a tie, whatever its ratio.
 *
 * Two configurations trained over the same seeds are compared seed by seed: a seed's runs share their teacher's
 * seed, their initialisation and the evaluation noise, so much of the spread over seeds is common to both and
 * cancels in the per-seed differences. The paired rule keeps the unpaired rule's width: for independent runs of
 * equal spread σ, sd_a + sd_b = 2σ = √2 · sd(a − b), so a paired difference is a tie when |mean(a − b)| ≤
 * √2 · sd(a − b). A difference that has the same sign and size on every seed is then called, as it should be;
 * for independent seeds the two rules agree on average.
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
  /** the value of each seed, in seed order (overSeeds), when it is a mean over seeds: lets comparisons pair them */
  perSeed?: readonly number[];
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
  return { value: mean, spread: Math.sqrt(variance), perSeed: [...values] };
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

/**
 * Compare a lower-is-better quantity (a distance) with a reference: seed by seed when both were measured over
 * the same number of seeds (the paired rule above), otherwise inside both spreads it is a tie.
 */
export function compareLowerIsBetter(value: Measured, reference: Measured): Comparison {
  const ratio = value.value / reference.value;
  if (!Number.isFinite(value.value)) return { verdict: "worse", ratio };
  const paired = value.perSeed && reference.perSeed && value.perSeed.length === reference.perSeed.length && value.perSeed.length >= 2;
  const difference = paired ? overSeeds(value.perSeed!.map((v, i) => v - reference.perSeed![i])) : { value: value.value - reference.value, spread: value.spread + reference.spread };
  const width = paired ? Math.SQRT2 * difference.spread : difference.spread;
  if (Math.abs(difference.value) <= width) return { verdict: "tie", ratio };
  return { verdict: difference.value < 0 ? "better" : "worse", ratio };
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
