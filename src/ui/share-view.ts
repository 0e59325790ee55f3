/**
 * The two page elements built on url-state.ts: the share bar ("Copy link to this view", and a quiet note of
 * address settings that were ignored) and the "Try this" steps, each of which sets controls through the address.
 */
import { applySettings, flushUrlState, ignoredSettings, onUrlStateChange, querySettingOnly, type IgnoredSetting } from "./url-state.js";

/** Keys that no control claimed are reported only after the page's cells have had time to make their controls. */
const UNKNOWN_KEY_GRACE_MS = 1500;

const describe = (list: readonly IgnoredSetting[]) => list.map((s) => `${s.key}=${s.text} (${s.reason})`).join("; ");

export function shareBar(): HTMLElement {
  const bar = document.createElement("div");
  bar.className = "share-bar";
  const button = document.createElement("button");
  button.type = "button";
  button.textContent = "Copy link to this view";
  const status = document.createElement("span");
  status.className = "small muted";
  status.setAttribute("role", "status");
  const note = document.createElement("div");
  note.className = "small muted share-ignored";
  bar.append(button, status, note);

  button.addEventListener("click", async () => {
    flushUrlState();
    const link = location.href;
    try {
      await navigator.clipboard.writeText(link);
      status.textContent = "Copied: the link opens this page with these settings.";
    } catch {
      // No clipboard (an insecure address, or permission refused): show the link, selected, to copy by hand.
      const field = document.createElement("input");
      field.readOnly = true;
      field.value = link;
      field.className = "share-link";
      status.replaceChildren("Copy this link: ", field);
      field.select();
    }
  });

  let showUnknown = false;
  const render = () => {
    const list = ignoredSettings().filter((s) => showUnknown || s.reason !== "not a setting of this page");
    note.textContent = list.length === 0 ? "" : `Ignored from the address: ${describe(list)}.`;
  };
  const stop = onUrlStateChange(render);
  setTimeout(() => {
    showUnknown = true;
    if (bar.isConnected) render();
    else stop();
  }, UNKNOWN_KEY_GRACE_MS);
  render();
  return bar;
}

/** One suggestion: what to do (the link text), the settings that do it, and what to look for. */
export interface TryStep {
  action: string;
  settings: Readonly<Record<string, string>>;
  look: string;
  /** id of the element (a heading or figure) to scroll to */
  target?: string;
}

/**
 * Numbered steps; each is a real link (it opens in a new tab too) that, clicked, sets the controls in place and
 * returns the others to their defaults.
 */
export function tryThis(steps: readonly TryStep[]): HTMLElement {
  const box = document.createElement("div");
  box.className = "try-this";
  const heading = document.createElement("strong");
  heading.textContent = "Try this";
  const list = document.createElement("ol");
  for (const step of steps) {
    const item = document.createElement("li");
    const link = document.createElement("a");
    link.textContent = step.action;
    // The step's own view (every other control at its default, as a click makes it); ?backend= is kept.
    link.href = `${location.pathname}${querySettingOnly(location.search, step.settings)}${step.target ? `#${step.target}` : ""}`;
    const problem = document.createElement("span");
    problem.className = "small muted";
    link.addEventListener("click", (event) => {
      if (event.ctrlKey || event.metaKey || event.shiftKey || event.button !== 0) return;
      event.preventDefault();
      const problems = applySettings(step.settings);
      problem.textContent = problems.length === 0 ? "" : ` (not applied: ${describe(problems)})`;
      if (step.target) document.getElementById(step.target)?.scrollIntoView({ behavior: "smooth", block: "start" });
    });
    item.append(link, ` — ${step.look}`, problem);
    list.append(item);
  }
  box.append(heading, list);
  return box;
}
