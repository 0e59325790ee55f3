// The text rule of scripts/browser/page-check.ts's leakedTemplate(): template source in rendered prose.
import { test } from "node:test";
import assert from "node:assert/strict";
import { findLeakedTemplate, longestTask } from "../scripts/browser/page-check.ts";

test("a `${…}` in prose is reported with the text around it", () => {
  assert.deepEqual(findLeakedTemplate("The loss is ${loss.toFixed(3)} after training."), ["The loss is ${loss.toFixed(3)} after training."]);
});

test("a stray backtick is reported (Markdown would have made <code> of a pair)", () => {
  assert.deepEqual(findLeakedTemplate("Run `npm test first"), ["Run `npm test first"]);
});

test("long text gives a snippet around each find, with ellipses where it was cut", () => {
  const text = `${"a".repeat(100)} \${x} ${"b".repeat(100)} \${y} ${"c".repeat(100)}`;
  const found = findLeakedTemplate(text);
  assert.equal(found.length, 2);
  assert.match(found[0], /^…a+ \$\{x\} b+…$/);
  assert.match(found[1], /^…b+ \$\{y\} c+…$/);
});

test("finds close together make one snippet", () => {
  assert.deepEqual(findLeakedTemplate("`${a}` and ${b}"), ["`${a}` and ${b}"]);
});

test("clean prose, dollars, braces and quotes are not leaks", () => {
  for (const text of ["Costs $5 {roughly}", "σ = 0.5, t ∈ [0, π/2]", "it's “quoted” ‘too’", "a $ {b}", ""]) {
    assert.deepEqual(findLeakedTemplate(text), [], text);
  }
});

test("longestTask is the largest duration, 0 for none", () => {
  assert.equal(longestTask([]), 0);
  assert.equal(longestTask([{ start: 1, duration: 60 }, { start: 5, duration: 250 }, { start: 9, duration: 80 }]), 250);
});
