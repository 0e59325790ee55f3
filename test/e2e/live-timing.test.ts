/**
 * How long the 2-D pages' live runs take in the browser, on the backend the page picks by itself (WASM first
 * on these pages, runtime/backend.ts): /stabilizers' default "Train A and B" (two sCT runs side by side, each in
 * its own worker) and /jvp's "Train the three networks". The tests assert that the runs finish, and print their
 * wall times as `# live: name: seconds` lines (issue goal: ≤ 30 s each on a 2-core machine without a GPU); a
 * time is not asserted, since it depends on the machine and its load.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { openPage } from "../../scripts/browser/page-check.ts";
import { useBuiltSite } from "./site-fixture.ts";
import { STABILIZER_TRAINING } from "../../src/components/toy/experiments/stabilizers.ts";

const site = useBuiltSite();

test("/stabilizers: the default A/B run finishes in the page's workers", async () => {
  const { page, errors } = await openPage(site.browser, `${site.url}/stabilizers`, { quietMs: 1000 });
  try {
    const backend = await page.locator(".notice[data-backend]").first().getAttribute("data-backend", { timeout: 120_000 });
    await page.getByRole("button", { name: "Train A and B" }).click();
    const started = Date.now();
    const done = `done: ${STABILIZER_TRAINING.studentSteps} steps`;
    for (const run of ["A", "B"]) await page.locator(`[data-run="${run}"]`).filter({ hasText: done }).waitFor({ timeout: 600_000 });
    const seconds = (Date.now() - started) / 1000;
    console.log(`# live: stabilizers_default_ab_seconds (${backend}): ${seconds.toFixed(1)}`);
    assert.deepEqual(errors, []);
  } finally {
    await page.close();
  }
});

test("/jvp: the three networks train to their default step count", async () => {
  const { page, errors } = await openPage(site.browser, `${site.url}/jvp`, { quietMs: 1000 });
  try {
    const backend = await page.locator(".notice[data-backend]").first().getAttribute("data-backend", { timeout: 120_000 });
    await page.getByRole("button", { name: "Train the three networks" }).click();
    const started = Date.now();
    await page.locator('[data-run="trained"]').filter({ hasText: /Trained in \d+ s/ }).waitFor({ timeout: 600_000 });
    const seconds = (Date.now() - started) / 1000;
    console.log(`# live: jvp_three_trained_curves_seconds (${backend}): ${seconds.toFixed(1)}`);
    assert.deepEqual(errors, []);
  } finally {
    await page.close();
  }
});
