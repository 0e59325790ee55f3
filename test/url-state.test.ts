// The address codecs of ui/url-state.ts: what a link can set, what it cannot, and the text it writes back.
import { test } from "node:test";
import assert from "node:assert/strict";
import { integerIn, numberIn, oneOf, onOff, querySettingOnly, settingFrom, someOf, withSettings } from "../src/ui/url-state.ts";

test("numbers: inside the range only, written as short decimals that read back to the same value", () => {
  const codec = numberIn(0.02, 0.3);
  assert.deepEqual(codec.parse("0.25"), { value: 0.25 });
  assert.deepEqual(codec.parse("0.02"), { value: 0.02 }, "the ends are inside");
  assert.match((codec.parse("0.31") as { reason: string }).reason, /outside 0\.02…0\.3/);
  assert.match((codec.parse("") as { reason: string }).reason, /not a number/);
  assert.match((codec.parse("abc") as { reason: string }).reason, /not a number/);
  assert.match((codec.parse("Infinity") as { reason: string }).reason, /not a number/);
  assert.equal(codec.format(0.1 + 0.2), "0.3", "a slider's rounding noise stays out of the address");
  assert.equal(codec.format(1.5707963267948966), "1.5708");
  assert.deepEqual(integerIn(1, 16).parse("8"), { value: 8 });
  assert.match((integerIn(1, 16).parse("2.5") as { reason: string }).reason, /whole number/);
  assert.match((integerIn(1, 16).parse("99") as { reason: string }).reason, /outside 1…16/);
});

test("choices: exact option text only; numeric options come back as numbers", () => {
  assert.deepEqual(oneOf(["ring", "grid"]).parse("grid"), { value: "grid" });
  assert.match((oneOf(["ring", "grid"]).parse("Grid") as { reason: string }).reason, /not one of ring, grid/);
  assert.deepEqual(oneOf([4, 64, 4096]).parse("64"), { value: 64 });
  const some = someOf([4, 64, 4096]);
  assert.deepEqual(some.parse("4096,4"), { value: [4, 4096] }, "in the list's order");
  assert.deepEqual(some.parse(""), { value: [] });
  assert.match((some.parse("4,5") as { reason: string }).reason, /5 is not one of/);
  assert.equal(some.format([4096, 4]), "4,4096");
  assert.deepEqual(onOff.parse("off"), { value: false });
  assert.deepEqual(onOff.parse("1"), { value: true });
  assert.match((onOff.parse("yes") as { reason: string }).reason, /not on or off/);
  assert.equal(onOff.format(true), "on");
});

test("settingFrom reads one key, reporting an invalid value instead of using it", () => {
  assert.deepEqual(settingFrom("?modes=3&data=ring", "modes", integerIn(1, 16)), { value: 3 });
  assert.deepEqual(settingFrom("?data=ring", "modes", integerIn(1, 16)), {});
  assert.deepEqual(settingFrom("?modes=99", "modes", integerIn(1, 16)), { ignored: { key: "modes", text: "99", reason: "outside 1…16" } });
});

test("withSettings sets and removes keys, keeps the others, and leaves commas readable", () => {
  assert.equal(withSettings("?backend=cpu&t=1", new Map([["t", "0.8"], ["solvers", "euler,heun"]])), "?backend=cpu&t=0.8&solvers=euler,heun");
  assert.equal(withSettings("?t=1", new Map([["t", null]])), "", "a default setting leaves the address");
  assert.equal(withSettings("", new Map()), "");
});

test("a step's address holds its settings only, keeping ?backend=", () => {
  assert.equal(querySettingOnly("?backend=webgl&modes=3&t=1", { data: "grid" }), "?backend=webgl&data=grid");
  assert.equal(querySettingOnly("?modes=3", {}), "");
});
