// The scripts' one command-line parser: strict, and a typo names the option that was meant.
import { test } from "node:test";
import assert from "node:assert/strict";
import { UsageError, closestName, editDistance, parseOptions, parseOptionsAndArguments } from "../scripts/options.ts";

const spec = { hidden: "value", steps: "value", "p-mean": "value", json: "flag" } as const;
const refusal = (argv: string[]) => {
  try {
    parseOptions(argv, spec);
  } catch (error) {
    assert.ok(error instanceof UsageError);
    return error.message;
  }
  assert.fail(`accepted ${argv.join(" ")}`);
};

test("values, flags, --name=value and negative numbers parse", () => {
  assert.deepEqual([...parseOptions(["--hidden", "8", "--json", "--steps=3", "--p-mean", "-1.2"], spec)], [["hidden", "8"], ["json", "true"], ["steps", "3"], ["p-mean", "-1.2"]]);
  assert.deepEqual([...parseOptions([], spec)], []);
});

test("every mistake is a one-line error that says what to type instead", () => {
  assert.match(refusal(["--hiden", "8"]), /^unknown option --hiden; did you mean --hidden\? \(options: --hidden --steps --p-mean --json\)$/);
  assert.match(refusal(["--pmean", "1"]), /did you mean --p-mean\?/);
  assert.match(refusal(["--zzzzzz", "1"]), /^unknown option --zzzzzz \(options:/);
  assert.equal(refusal(["--steps"]), "--steps needs a value");
  assert.equal(refusal(["--steps", "--json"]), "--steps needs a value");
  assert.equal(refusal(["--json=yes"]), "--json takes no value");
  assert.match(refusal(["8"]), /^unexpected argument "8"/);
});

test("edit distance and the closest name", () => {
  assert.equal(editDistance("hiden", "hidden"), 1);
  assert.equal(editDistance("", "abc"), 3);
  assert.equal(editDistance("kitten", "sitting"), 3);
  assert.equal(closestName("STEPS", ["steps", "seed"]), "steps");
  assert.equal(closestName("batch", ["hidden", "steps"]), null);
});

test("a tool without options says so when given one", () => {
  assert.throws(() => parseOptionsAndArguments(["--json", "file"], {}), /unknown option --json \(it takes no options\)/);
});
