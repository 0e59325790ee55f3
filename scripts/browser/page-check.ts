/**
 * Open a page of the built site in Chromium and collect what a reader would see go wrong: error cells,
 * console errors, uncaught exceptions, unhandled promise rejections, failed requests, template source leaked
 * into the text (`${…}` or a stray backtick), and main-thread long tasks after first paint. Shared by the
 * build check (scripts/build/check-dist.ts) and the e2e tests.
 *
 * Only the page's main thread is watched for rejections and long tasks: init scripts do not run in workers
 * (a worker's console errors still arrive as console messages).
 */
import { availableParallelism, loadavg } from "node:os";
import type { Browser, Page, Request } from "playwright-core";

/** The longest main-thread task a page may run after first paint (the project's standard). */
export const LONG_TASK_LIMIT_MS = 200;

export interface LongTask {
  /** ms since navigation start */
  start: number;
  duration: number;
}

export interface PageCheck {
  page: Page;
  /**
   * In order, each prefixed by its kind: `console: …` (console.error), `pageerror: …` (uncaught exception),
   * `unhandledrejection: …`, `request failed: …`.
   */
  errors: string[];
  /** the text of every Framework error cell */
  errorCells: () => Promise<string[]>;
  /** template source showing in the page's visible text (outside code, pre and math), one snippet per find */
  leakedTemplate: () => Promise<string[]>;
  /** main-thread tasks over 50 ms (the Long Tasks API's threshold) that started after first paint */
  longTasks: () => Promise<LongTask[]>;
}

export interface OpenPageOptions {
  /** viewport width in CSS px (default 1280) */
  width?: number;
  /** viewport height in CSS px (default 900) */
  height?: number;
  /**
   * Also wait until the page's DOM has not changed for this many ms (default 0: do not wait), at most
   * `settleTimeoutMs`. Framework's loading marks cover only some cells: a cell that waits for the TF.js backend
   * and then computes draws (or throws) seconds after them, and a check that returns earlier misses it.
   */
  quietMs?: number;
  /** the most to wait for `quietMs` of quiet (default 30 s); a page still changing then (an animation) is not an error */
  settleTimeoutMs?: number;
  /**
   * Load the page once, unchecked, before the load that is checked, in the same tab (default false). For
   * measuring long tasks: the first layout in a fresh renderer process spends 100–560 ms (traced on this
   * 2-core machine) in Chromium's font matching (FontCache::GetFontPlatformData, FontDataService::
   * MatchFamilyName), whatever the page. That is the browser's start-up cost, not the page's, and a reader
   * pays it once per browser; the second load reuses the process and its font caches, and shows the page's own tasks.
   */
  warmUp?: boolean;
  /** runs on the new page before it loads, e.g. to install routes */
  beforeLoad?: (page: Page) => Promise<void>;
}

/** Marks the console.error lines the init script writes for unhandled rejections. */
const REJECTION_MARK = "[page-check] unhandledrejection: ";

/**
 * Runs in the page before any of its scripts (a string, not a function: tsx compiles functions with `__name`
 * helpers that do not exist in the page). Chromium reports an unhandled rejection as an uncaught exception
 * ("pageerror"); the listener reports it instead, as a console error with a mark the collector recognizes,
 * and `preventDefault()` stops Chromium's own report, so each rejection is counted once and by its kind. The
 * MutationObserver notes the time of the last DOM change, and the PerformanceObserver keeps every long task (`buffered` also delivers those from before it was registered).
 */
const INIT_SCRIPT = `(() => {
  const mark = ${JSON.stringify(REJECTION_MARK)};
  const describe = (reason) => {
    if (reason instanceof Error) return reason.name + ": " + reason.message;
    try { return typeof reason === "string" ? reason : JSON.stringify(reason) ?? String(reason); } catch { return String(reason); }
  };
  window.addEventListener("unhandledrejection", (event) => {
    event.preventDefault();
    console.error(mark + describe(event.reason));
  });
  // The time of the last DOM change, for OpenPageOptions.quietMs.
  window.__pageCheckLastChange = performance.now();
  new MutationObserver(() => { window.__pageCheckLastChange = performance.now(); })
    .observe(document, { subtree: true, childList: true, characterData: true, attributes: true });
  const tasks = [];
  window.__pageCheckLongTasks = tasks;
  try {
    new PerformanceObserver((list) => {
      for (const entry of list.getEntries()) tasks.push({ start: entry.startTime, duration: entry.duration });
    }).observe({ type: "longtask", buffered: true });
  } catch {
    // a browser without the Long Tasks API reports none
  }
})();`;

/**
 * The text rule of `leakedTemplate`: snippets of `text` around each `${` and each backtick. Rendered prose
 * has neither: Markdown turns `code` into <code> and Framework evaluates `${…}`, so either one showing means
 * a template literal or an inline expression was printed as source.
 */
export function findLeakedTemplate(text: string): string[] {
  const found: string[] = [];
  const pattern = /\$\{|`/g;
  let lastEnd = -1;
  for (let match = pattern.exec(text); match; match = pattern.exec(text)) {
    if (match.index < lastEnd) continue; // already inside the previous snippet
    const start = Math.max(0, match.index - 30);
    const end = Math.min(text.length, match.index + 40);
    found.push(`${start > 0 ? "…" : ""}${text.slice(start, end).replace(/\s+/g, " ").trim()}${end < text.length ? "…" : ""}`);
    lastEnd = end;
  }
  return found;
}

/**
 * The limit a test applies to a measured long task: LONG_TASK_LIMIT_MS, scaled up by how far the machine is
 * oversubscribed (1-minute load average per core, when above 1). Tests run while other work shares the
 * cores (CI has two), and a task that takes 150 ms on an idle machine takes about load/cores times that.
 */
export function longTaskLimitMs(): number {
  return LONG_TASK_LIMIT_MS * Math.max(1, loadavg()[0] / availableParallelism());
}

/** The largest duration among `tasks`, 0 for none. */
export function longestTask(tasks: readonly LongTask[]): number {
  return tasks.reduce((max, task) => Math.max(max, task.duration), 0);
}

export async function openPage(browser: Browser, url: string, options: OpenPageOptions = {}): Promise<PageCheck> {
  const page = await browser.newPage({ viewport: { width: options.width ?? 1280, height: options.height ?? 900 } });
  const errors: string[] = [];
  await page.addInitScript({ content: INIT_SCRIPT });
  await options.beforeLoad?.(page);
  page.on("console", (message) => {
    if (message.type() !== "error") return;
    const text = message.text();
    errors.push(text.startsWith(REJECTION_MARK) ? `unhandledrejection: ${text.slice(REJECTION_MARK.length)}` : `console: ${text}`);
  });
  page.on("pageerror", (error) => errors.push(`pageerror: ${error.message}`));
  // Only the checked load's requests count: those of a warm-up load are aborted by the next navigation, and
  // their failures arrive late, while the checked load runs. The warm-up page is left for about:blank before
  // checking starts, so that a request it makes at the last moment (a worker it starts late) is not counted.
  let checking = !options.warmUp;
  const checkedRequests = new WeakSet<Request>();
  page.on("request", (request) => checking && checkedRequests.add(request));
  page.on("requestfailed", (request) => {
    if (checkedRequests.has(request)) errors.push(`request failed: ${request.url()} ${request.failure()?.errorText}`);
  });
  try {
    if (options.warmUp) {
      await page.goto(url, { waitUntil: "load" });
      await page.waitForTimeout(1000);
      await page.goto("about:blank");
      errors.length = 0;
      checking = true;
    }
    await page.goto(url, { waitUntil: "networkidle" });
    // Framework marks cells that are still computing; wait until none are left.
    await page.waitForFunction(() => document.querySelectorAll(".observablehq--loading").length === 0, null, { timeout: 60_000 });
    await page.waitForTimeout(300);
    if (options.quietMs) {
      const quiet = page.waitForFunction(
        (ms) => performance.now() - (window as unknown as { __pageCheckLastChange: number }).__pageCheckLastChange >= ms,
        options.quietMs,
        { timeout: options.settleTimeoutMs ?? 30_000, polling: 250 },
      );
      await quiet.catch((error: Error) => {
        if (error.name !== "TimeoutError") throw error;
      });
    }
  } catch (error) {
    // The caller gets no page to close, so close it here, and keep what went wrong before the timeout.
    await page.close();
    const seen = errors.length > 0 ? `; before that: ${errors.join(" | ")}` : "";
    throw new Error(`${url} did not finish loading: ${(error as Error).message.split("\n")[0]}${seen}`);
  }
  return {
    page,
    errors,
    errorCells: () => page.locator(".observablehq--error").allInnerTexts(),
    leakedTemplate: async () => (await visibleProse(page)).flatMap(findLeakedTemplate),
    longTasks: () =>
      page.evaluate(() => {
        const paint = performance.getEntriesByType("paint").find((entry) => entry.name === "first-paint");
        const tasks = (window as unknown as { __pageCheckLongTasks?: { start: number; duration: number }[] }).__pageCheckLongTasks ?? [];
        return tasks.filter((task) => task.start >= (paint?.startTime ?? 0)).map((task) => ({ ...task }));
      }),
  };
}

/**
 * The visible text of the page's main column, one string per element (its own text nodes joined), leaving
 * out code, preformatted text, math (KaTeX's HTML and MathML), scripts, styles and form fields.
 */
function visibleProse(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    const root = document.querySelector("#observablehq-main") ?? document.querySelector("main");
    if (!root) return [];
    const skip = "code, pre, kbd, samp, script, style, template, textarea, math, .katex, .katex-display, .katex-mathml";
    const byParent = new Map<Element, string>();
    const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      const parent = node.parentElement;
      if (!parent || parent.closest(skip) || !node.textContent?.trim()) continue;
      if (!parent.checkVisibility({ opacityProperty: true, visibilityProperty: true })) continue;
      byParent.set(parent, (byParent.get(parent) ?? "") + node.textContent);
    }
    return [...byParent.values()];
  });
}
