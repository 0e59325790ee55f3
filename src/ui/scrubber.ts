/**
 * A slider with a play/pause button, usable with Framework's view(): the element's `value` is the slider's
 * number and it fires "input" on every change, whether dragged or animated. Setting `value` moves the slider
 * (a link's or a "try this" step's setting, ui/url-state.ts).
 */
export interface ScrubberOptions {
  min: number;
  max: number;
  /** slider granularity, or "any" for a continuous slider */
  step: number | "any";
  value: number;
  label: string;
  /** seconds for one sweep from max to min */
  duration?: number;
  /** animate from max down to min (noise → data), as sampling does */
  descending?: boolean;
  format?: (value: number) => string;
}

export function scrubber({ min, max, step, value, label, duration = 6, descending = true, format = (v) => v.toFixed(3) }: ScrubberOptions): HTMLElement & { value: number } {
  const form = document.createElement("form") as unknown as HTMLElement & { value: number };
  form.className = "scrubber";
  // The row wraps and the slider shrinks (min-width 0 overrides a range input's intrinsic width), so on a
  // phone the slider and its readout drop below the button instead of widening the page.
  form.style.cssText = "display:flex;flex-wrap:wrap;align-items:center;gap:0.4em 0.6em;font:13px var(--sans-serif);margin:0.5em 0;max-width:100%;";
  form.innerHTML = `<button type="button" style="min-width:5em">▶ Play</button>
    <label style="display:flex;align-items:center;gap:0.5em;flex:1 1 20em;min-width:0">${label}
    <input type="range" min="${min}" max="${max}" step="${step}" value="${value}" style="flex:1 1 6em;min-width:4em;width:auto;max-width:360px" aria-label="${label}">
    <output style="font-variant-numeric:tabular-nums;min-width:5em;white-space:nowrap"></output></label>`;
  const button = form.querySelector("button")!;
  const range = form.querySelector("input")!;
  const output = form.querySelector("output")!;
  let frame = 0;
  let last = 0;

  const show = () => {
    output.textContent = format(Number(range.value));
  };
  Object.defineProperty(form, "value", {
    get: () => Number(range.value),
    set: (next: number) => {
      range.value = String(next);
      show();
    },
  });
  const stop = () => {
    cancelAnimationFrame(frame);
    frame = 0;
    button.textContent = "▶ Play";
  };
  const tick = (now: number) => {
    if (!form.isConnected) return stop();
    const dt = last ? (now - last) / 1000 : 0;
    last = now;
    const delta = ((max - min) * dt) / duration;
    const next = Math.min(max, Math.max(min, Number(range.value) + (descending ? -delta : delta)));
    range.value = String(next);
    show();
    form.dispatchEvent(new Event("input", { bubbles: true }));
    // Stop at the end of the sweep, as a sampler does when it reaches the data.
    if (next === (descending ? min : max)) return stop();
    frame = requestAnimationFrame(tick);
  };
  button.addEventListener("click", () => {
    if (frame) return stop();
    button.textContent = "❚❚ Pause";
    last = 0;
    // Pressing play at the end of the sweep starts it again from the beginning.
    if (Number(range.value) === (descending ? min : max)) range.value = String(descending ? max : min);
    frame = requestAnimationFrame(tick);
  });
  range.addEventListener("input", (event) => {
    event.stopPropagation();
    show();
    form.dispatchEvent(new Event("input", { bubbles: true }));
  });
  form.addEventListener("submit", (event) => event.preventDefault());
  show();
  return form;
}
