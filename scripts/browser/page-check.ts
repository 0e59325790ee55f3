/**
 * Open a page of the built site in Chromium and collect everything that went wrong: error cells,
 * console errors, uncaught exceptions and failed requests. Shared by the build check and the e2e tests.
 */
import type { Browser, Page } from "playwright-core";

export interface PageCheck {
  page: Page;
  /** console errors, uncaught exceptions and failed requests, in order */
  errors: string[];
  /** the text of every Framework error cell */
  errorCells: () => Promise<string[]>;
}

export async function openPage(browser: Browser, url: string): Promise<PageCheck> {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  const errors: string[] = [];
  page.on("console", (message) => message.type() === "error" && errors.push(`console: ${message.text()}`));
  page.on("pageerror", (error) => errors.push(`pageerror: ${error.message}`));
  page.on("requestfailed", (request) => errors.push(`request failed: ${request.url()} ${request.failure()?.errorText}`));
  await page.goto(url, { waitUntil: "networkidle" });
  // Framework marks cells that are still computing; wait until none are left.
  await page.waitForFunction(() => document.querySelectorAll(".observablehq--loading").length === 0, null, { timeout: 60_000 });
  await page.waitForTimeout(300);
  return { page, errors, errorCells: () => page.locator(".observablehq--error").allInnerTexts() };
}
