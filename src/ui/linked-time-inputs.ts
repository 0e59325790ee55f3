/**
 * Three linked sliders for the same noise level: TrigFlow time t, EDM's log σ, and flow-matching time s.
 * Dragging any one moves the other two; the element's value is t (for Framework's view()), and setting it
 * moves all three.
 */
import { SIGMA_D, sigmaFromT, tFromSigma, flowTimeFromT, tFromFlowTime } from "../components/trigflow/trigflow.js";

export function linkedTimeInputs(initialT = 1.1, sigmaD = SIGMA_D): HTMLElement & { value: number } {
  const form = document.createElement("form") as unknown as HTMLElement & { value: number };
  // Labels may wrap (fit-content) and sliders may shrink (minmax(0, …), min-width 0 below), so the three
  // rows fit a phone; the readouts keep their width.
  form.style.cssText = "display:grid;grid-template-columns:fit-content(40%) minmax(0,1fr) auto;gap:0.3em 0.8em;align-items:center;font:13px var(--sans-serif);max-width:640px;";
  const row = (label: string, min: number, max: number, step: number) => {
    const name = document.createElement("label");
    name.innerHTML = label;
    const input = document.createElement("input");
    Object.assign(input, { type: "range", min: String(min), max: String(max), step: String(step) });
    input.setAttribute("aria-label", name.textContent ?? label);
    input.style.minWidth = "0";
    input.style.width = "100%";
    const out = document.createElement("output");
    out.style.cssText = "font-variant-numeric:tabular-nums;white-space:nowrap;min-width:5.5em;";
    form.append(name, input, out);
    return { input, out };
  };
  const t = row("TrigFlow time <i>t</i> (rad)", 0.001, Math.PI / 2 - 0.001, 0.001);
  const logSigma = row("EDM noise level log₁₀ <i>σ</i>", -3, 3, 0.01);
  const s = row("flow-matching time <i>s</i>", 0.001, 0.999, 0.001);

  let current = initialT;
  const set = (value: number) => {
    current = value;
    const sigma = sigmaFromT(value, sigmaD);
    t.input.value = String(value);
    t.out.textContent = value.toFixed(4);
    logSigma.input.value = String(Math.log10(sigma));
    logSigma.out.textContent = `σ = ${sigma < 0.01 || sigma > 999 ? sigma.toExponential(2) : sigma.toFixed(3)}`;
    s.input.value = String(flowTimeFromT(value, sigmaD));
    s.out.textContent = flowTimeFromT(value, sigmaD).toFixed(4);
  };
  const listen = (input: HTMLInputElement, toT: (v: number) => number) =>
    input.addEventListener("input", (event) => {
      event.stopPropagation();
      set(toT(Number(input.value)));
      form.dispatchEvent(new Event("input", { bubbles: true }));
    });
  listen(t.input, (v) => v);
  listen(logSigma.input, (v) => tFromSigma(10 ** v, sigmaD));
  listen(s.input, (v) => tFromFlowTime(v, sigmaD));
  form.addEventListener("submit", (event) => event.preventDefault());
  Object.defineProperty(form, "value", { get: () => current, set });
  set(initialT);
  return form;
}
