import { test } from "node:test";
import assert from "node:assert/strict";
import { SCM_CIFAR10_PROPOSAL, sampleTime, timeFromStandardNormal, timeProposalDensity } from "../src/components/trigflow/time-proposal.ts";
import { createRng } from "../src/components/math/rng.ts";
import { assertClose } from "./helpers.ts";

test("proposal quantiles for (P_mean, P_std) = (−1.0, 1.4) are 0.047 / 0.634 / 1.484 rad (Alg. 1, App. G)", () => {
  const q = [-1.959964, 0, 1.959964].map((xi) => timeFromStandardNormal(xi, SCM_CIFAR10_PROPOSAL));
  assertClose(q, [0.047, 0.634, 1.484], 5e-4); // quoted to 3 decimals
  // Forgetting the 1/σd would move the median to arctan(e^−1) = 0.352.
  assert.ok(Math.abs(q[1] - Math.atan(Math.exp(-1))) > 0.2);
});

test("sampled times follow the proposal: half below the median, all inside (0, π/2)", () => {
  const rng = createRng(2);
  const n = 40_000;
  const median = timeFromStandardNormal(0, SCM_CIFAR10_PROPOSAL);
  let below = 0;
  for (let i = 0; i < n; i++) {
    const t = sampleTime(rng, SCM_CIFAR10_PROPOSAL);
    assert.ok(t > 0 && t < Math.PI / 2);
    if (t < median) below++;
  }
  assertClose(below / n, 0.5, 5 * Math.sqrt(0.25 / n)); // binomial, 5 standard errors
});

test("the proposal density integrates to one over (0, π/2)", () => {
  const steps = 200_000;
  let mass = 0;
  for (let i = 0; i < steps; i++) {
    const t = ((i + 0.5) / steps) * (Math.PI / 2);
    mass += timeProposalDensity(t, SCM_CIFAR10_PROPOSAL) * (Math.PI / 2 / steps);
  }
  assertClose(mass, 1, 1e-4);
});
