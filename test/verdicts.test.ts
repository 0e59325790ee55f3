import { test } from "node:test";
import assert from "node:assert/strict";
import { ablationConclusion, compareLowerIsBetter, describeComparison, finalQuality, overSeeds, qualityCurveOverSeeds, versusEach } from "../src/components/toy/experiments/verdicts.ts";

test("overSeeds: the mean, and the sample standard deviation (n − 1) as the spread", () => {
  // mean 2.5, squared deviations 2.25 + 0.25 + 0.25 + 2.25 = 5, over n − 1 = 3
  const m = overSeeds([1, 2, 3, 4]);
  assert.equal(m.value, 2.5);
  assert.ok(Math.abs(m.spread - Math.sqrt(5 / 3)) < 1e-15);
  assert.deepEqual(overSeeds([0.5]), { value: 0.5, spread: 0 });
  assert.throws(() => overSeeds([]), /no seeds/);
  // A diverged seed makes the mean non-finite, which the comparison then calls worse.
  assert.equal(compareLowerIsBetter(overSeeds([1, Infinity]), overSeeds([1, 1.1])).verdict, "worse");
});

test("the tie rule: a difference inside both spreads is a tie, one just outside is not", () => {
  const reference = { value: 1.0, spread: 0.05 };
  assert.equal(compareLowerIsBetter({ value: 1.09, spread: 0.05 }, reference).verdict, "tie"); // 0.09 < 0.05 + 0.05
  assert.equal(compareLowerIsBetter({ value: 1.11, spread: 0.05 }, reference).verdict, "worse");
  assert.equal(compareLowerIsBetter({ value: 0.89, spread: 0.05 }, reference).verdict, "better");
  // A large ratio is still a tie when the spreads are larger.
  assert.equal(compareLowerIsBetter({ value: 2, spread: 0.6 }, { value: 1, spread: 0.5 }).verdict, "tie");
  // No spread at all: any difference counts.
  assert.equal(compareLowerIsBetter({ value: 1.001, spread: 0 }, { value: 1, spread: 0 }).verdict, "worse");
  assert.equal(compareLowerIsBetter({ value: NaN, spread: 0 }, reference).verdict, "worse");
  // The boundary belongs to the tie: a difference exactly equal to the two spreads together (binary-exact numbers).
  assert.equal(compareLowerIsBetter({ value: 1.5, spread: 0.25 }, { value: 1, spread: 0.25 }).verdict, "tie");
  assert.equal(compareLowerIsBetter({ value: 0.5, spread: 0.25 }, { value: 1, spread: 0.25 }).verdict, "tie");
  assert.equal(compareLowerIsBetter({ value: 1.5 + 2 ** -20, spread: 0.25 }, { value: 1, spread: 0.25 }).verdict, "worse");
  // Over seeds: means 1.0 and 1.3 with sds 0.129 each (seeds 0.85 … 1.15 and 1.15 … 1.45) are 0.3 apart > 0.258: worse.
  const a = overSeeds([0.85, 0.95, 1.05, 1.15]);
  const b = overSeeds([1.15, 1.25, 1.35, 1.45]);
  assert.equal(compareLowerIsBetter(b, a).verdict, "worse");
  assert.equal(compareLowerIsBetter(a, b).verdict, "better");
  // The same means with twice the scatter overlap: a tie, unpaired (different numbers of seeds: no pairing).
  assert.equal(compareLowerIsBetter(overSeeds([1.0, 1.2, 1.4, 1.6, 1.3]), overSeeds([0.7, 0.9, 1.1, 1.3])).verdict, "tie");
});

test("over the same seeds, differences are judged seed by seed: a consistent one is called, a scattered one is a tie", () => {
  // Every seed 0.3 worse: the spread over seeds (0.26 each) is common to both and cancels.
  assert.equal(compareLowerIsBetter(overSeeds([1.0, 1.2, 1.4, 1.6]), overSeeds([0.7, 0.9, 1.1, 1.3])).verdict, "worse");
  assert.equal(compareLowerIsBetter(overSeeds([0.7, 0.9, 1.1, 1.3]), overSeeds([1.0, 1.2, 1.4, 1.6])).verdict, "better");
  // The same means, per-seed differences 0.9, 0.1, 0.3, −0.1: mean 0.3, sd 0.43, √2·sd 0.61 > 0.3: a tie.
  assert.equal(compareLowerIsBetter(overSeeds([1.6, 1.0, 1.4, 1.2]), overSeeds([0.7, 0.9, 1.1, 1.3])).verdict, "tie");
  // Just inside and just outside √2·sd: differences 0.1 ± 0.05 (mean 0.1, sd 0.0577, √2·sd 0.0816) is called;
  // differences 0.1 ± 0.09 (sd 0.104, √2·sd 0.147) are a tie.
  const base = [1, 2, 3, 4];
  const plus = (d: number[]) => overSeeds(base.map((v, i) => v + d[i]));
  assert.equal(compareLowerIsBetter(plus([0.05, 0.15, 0.05, 0.15]), overSeeds(base)).verdict, "worse");
  assert.equal(compareLowerIsBetter(plus([0.01, 0.19, 0.01, 0.19]), overSeeds(base)).verdict, "tie");
  // A single seed on one side: no pairing, the unpaired rule.
  assert.equal(compareLowerIsBetter({ value: 2.6, spread: 0 }, overSeeds(base)).verdict, "tie");
});

test("comparisons read as the numbers say", () => {
  assert.equal(describeComparison(compareLowerIsBetter({ value: 1.84, spread: 0 }, { value: 1, spread: 0 })), "1.84× worse");
  assert.equal(describeComparison(compareLowerIsBetter({ value: 0.62, spread: 0 }, { value: 1, spread: 0 })), "0.62× (better)");
  assert.equal(describeComparison(compareLowerIsBetter({ value: 1.03, spread: 0.02 }, { value: 1, spread: 0.02 })), "a tie (1.03×, inside the spread)");
  assert.equal(describeComparison({ verdict: "worse", ratio: 12.4 }), "12× worse");
});

test("the ablation sentence names each variant under the verdict its numbers give", () => {
  const m = (value: number, spread = 0.001) => ({ value, spread });
  const paper = { label: "the paper's setting", oneStep: m(0.01), twoStep: m(0.01) };
  const sentence = ablationConclusion(paper, [
    { label: "off", oneStep: m(0.02), twoStep: m(0.0101) }, // worse in one, tie in the other: worse
    { label: "clip", oneStep: m(0.0105), twoStep: m(0.0095) }, // both inside the spread: tie
    { label: "plain", oneStep: m(0.005), twoStep: m(0.02) }, // one better, one worse: mixed
    { label: "fourier", oneStep: m(0.007), twoStep: m(0.008) }, // better in both
  ]);
  assert.equal(
    sentence,
    "Worse than the paper's setting: off; better than the paper's setting: fourier; better in one of 1-step and 2-step quality and worse in the other: plain; a tie with the paper's setting (every difference inside the spread): clip.",
  );
});

test("finalQuality: each seed's last measurement, then mean ± sd over seeds, for both series", () => {
  const seed = (oneStep: number, twoStep: number) => ({ quality: [{ iteration: 0, oneStep: 9, twoStep: 9 }, { iteration: 50, oneStep, twoStep }] });
  assert.deepEqual(finalQuality("A", [seed(2, 4), seed(4, 4)]), { label: "A", oneStep: { value: 3, spread: Math.SQRT2, perSeed: [2, 4] }, twoStep: { value: 4, spread: 0, perSeed: [4, 4] } });
  assert.throws(() => finalQuality("B", [{ quality: [] }]), /B: a seed with no measurements/);
});

test("qualityCurveOverSeeds: mean ± sd at every measurement; a seed that stopped early leaves the later points", () => {
  const curve = qualityCurveOverSeeds(
    [
      { quality: [{ iteration: 0, oneStep: 1, twoStep: 2 }, { iteration: 50, oneStep: 3, twoStep: 4 }] },
      { quality: [{ iteration: 0, oneStep: 3, twoStep: 2 }] },
    ],
    "oneStep",
  );
  assert.deepEqual(curve, [
    { iteration: 0, seeds: 2, value: 2, spread: Math.SQRT2, perSeed: [1, 3] },
    { iteration: 50, seeds: 1, value: 3, spread: 0 },
  ]);
});

test("versusEach groups the others by the subject's verdict against each", () => {
  const m = (value: number) => ({ value, spread: 0.01 });
  const others = [{ label: "N = 4", measured: m(0.5) }, { label: "N = 8", measured: m(0.31) }, { label: "N = 16", measured: m(0.29) }, { label: "N = 64", measured: m(0.1) }];
  assert.equal(versusEach(m(0.3), others), "better than N = 4; a tie with N = 8, N = 16; worse than N = 64");
  assert.equal(versusEach(m(0.01), others.slice(0, 1)), "better than N = 4");
});
