import { test } from "node:test";
import assert from "node:assert/strict";
import { ablationConclusion, compareLowerIsBetter, describeComparison, finalQuality, finalValue, versusEach } from "../src/components/toy/experiments/verdicts.ts";

test("finalValue: the last value, and half the range of the last four as its spread", () => {
  assert.deepEqual(finalValue([9, 1, 3, 2, 5]), { value: 5, spread: 2 });
  assert.deepEqual(finalValue([0.5]), { value: 0.5, spread: 0 });
  assert.throws(() => finalValue([]), /no values/);
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

test("finalQuality reads both series of a run's measurements", () => {
  const evaluations = [{ oneStep: 5, twoStep: 4 }, { oneStep: 3, twoStep: 2 }, { oneStep: 2, twoStep: 2.5 }];
  assert.deepEqual(finalQuality("A", evaluations), { label: "A", oneStep: { value: 2, spread: 1.5 }, twoStep: { value: 2.5, spread: 1 } });
});

test("versusEach groups the others by the subject's verdict against each", () => {
  const m = (value: number) => ({ value, spread: 0.01 });
  const others = [{ label: "N = 4", measured: m(0.5) }, { label: "N = 8", measured: m(0.31) }, { label: "N = 16", measured: m(0.29) }, { label: "N = 64", measured: m(0.1) }];
  assert.equal(versusEach(m(0.3), others), "better than N = 4; a tie with N = 8, N = 16; worse than N = 64");
  assert.equal(versusEach(m(0.01), others.slice(0, 1)), "better than N = 4");
});
