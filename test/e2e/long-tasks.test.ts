/**
 * No page blocks its main thread: on every page of the built site, no task that starts after first paint runs
 * longer than LONG_TASK_LIMIT_MS (200 ms, scaled by the machine's load; see longTaskLimitMs), measured with
 * the Long Tasks API while the page loads and computes its first view (heavy work runs in workers, and
 * main-thread math yields between slices, see src/ui/next-task.ts), and no page loads TF.js on its main
 * thread. Each page is loaded twice in its tab and the second load is measured (OpenPageOptions.warmUp: the first pays Chromium's font start-up, not the page).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { loadavg } from "node:os";
import config from "../../observablehq.config.ts";
import { longestTask, longTaskLimitMs, openPage } from "../../scripts/browser/page-check.ts";
import { useBuiltSite } from "./site-fixture.ts";

const site = useBuiltSite();

for (const path of ["/", ...config.pages.map((p) => p.path)]) {
  test(`${path} runs no main-thread task over 200 ms after first paint`, async () => {
    const check = await openPage(site.browser, `${site.url}${path}`, { quietMs: 2000, warmUp: true });
    try {
      const tasks = await check.longTasks();
      const longest = longestTask(tasks);
      const limit = longTaskLimitMs();
      console.log(`${path}: longest main-thread task after first paint ${longest.toFixed(0)} ms (limit ${limit.toFixed(0)} ms at load ${loadavg()[0].toFixed(1)})`);
      assert.ok(longest <= limit, `${path}: tasks after first paint ${JSON.stringify(tasks)}`);
      assert.deepEqual(check.errors, []);
      // TF.js runs in the pages' workers only: evaluating its modules alone is a ~100 ms task.
      // By path: a 2-D page's worker address carries the WebAssembly binaries' URLs in its query.
      const tfjs = await check.page.evaluate(() => performance.getEntriesByType("resource").map((r) => new URL(r.name).pathname).filter((path) => /tensorflow|tfjs/.test(path)));
      assert.deepEqual(tfjs, [], `${path} loads TF.js on its main thread`);
    } finally {
      await check.page.close();
    }
  });
}
