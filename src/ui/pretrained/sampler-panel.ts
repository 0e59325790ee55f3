/**
 * Sampling controls for the loaded model: class (ImageNet names for a 1000-class model, numbers for other
 * class-conditional models, none for unconditional ones), seed, 1 or 2 steps, batch size, and the button.
 * The class list is rebuilt only when a different model is loaded, so a choice survives progress updates.
 */
import { MAX_BATCH } from "../../components/pretrained/models.js";
import type { ModelInfo } from "../../components/pretrained/loader.js";
import { element } from "./dom.js";
import { taskStatus } from "./status.js";
import type { PretrainedSession, SessionState } from "./session.js";
import { integerIn, oneOf, urlField } from "../url-state.js";

/** ImageNet's first name for a class ("tench, Tinca tinca" → "tench"). */
export const shortClassName = (name: string) => name.split(",")[0].trim();

/** Golden retriever: a class people recognise at 64×64. */
const DEFAULT_IMAGENET_CLASS = 207;

export function samplerPanel(session: PretrainedSession, imagenetClasses: readonly string[]): HTMLElement {
  const filter = element("input", { type: "search", placeholder: "filter classes…" });
  filter.setAttribute("aria-label", "Filter the classes");
  const classes = element("select");
  classes.setAttribute("aria-label", "Class");
  const classRow = element("div", { className: "pretrained-row" }, element("label", {}, "Class: ", classes), " ", filter);
  const seed = element("input", { type: "number", value: "0", step: "1", min: "0" });
  seed.style.width = "8em";
  seed.setAttribute("aria-label", "Seed");
  const reseed = element("button", { type: "button", textContent: "New seed" });
  const stepInputs = ([1, 2] as const).map((n) => element("input", { type: "radio", name: "pretrained-steps", value: String(n), checked: n === 1 }));
  const checkedSteps = (): 1 | 2 => (stepInputs.find((input) => input.checked)?.value === "2" ? 2 : 1);
  const count = element("select", {}, ...Array.from({ length: MAX_BATCH }, (_, i) => element("option", { value: String(i + 1), textContent: String(i + 1), selected: i + 1 === 4 })));
  count.setAttribute("aria-label", "Images");
  const button = element("button", { type: "button", className: "pretrained-primary", textContent: "Sample" });
  const panel = element(
    "div",
    { className: "card pretrained-panel" },
    classRow,
    element("div", { className: "pretrained-row" }, element("label", {}, "Seed: ", seed), " ", reseed),
    element("div", { className: "pretrained-row" }, "Steps: ", ...stepInputs.map((input) => element("label", {}, input, ` ${input.value} `)), element("label", {}, " Images: ", count)),
    element("div", { className: "pretrained-row" }, button),
    taskStatus(session, ["sample"]),
  );

  let shownModel: ModelInfo | null | undefined; // undefined: nothing shown yet
  let options: { value: number; text: string; title: string }[] = [];
  const fillClasses = () => {
    const query = filter.value.trim().toLowerCase();
    const keep = classes.value;
    const matching = options.filter((o) => !query || `${o.text} ${o.title}`.toLowerCase().includes(query));
    classes.replaceChildren(...matching.map((o) => element("option", { value: String(o.value), textContent: o.text, title: o.title })));
    if (matching.some((o) => String(o.value) === keep)) classes.value = keep;
    refreshButton();
  };
  const refreshButton = () => {
    const model = shownModel;
    button.disabled = !model || session.current.task !== null || (model.numClasses !== null && classes.value === "");
    button.title = !model ? "Load a model first" : button.disabled && model.numClasses !== null && classes.value === "" ? "No class matches the filter" : "";
  };
  filter.addEventListener("input", fillClasses);
  reseed.addEventListener("click", () => {
    seed.value = String(Math.floor(Math.random() * 1e6));
    seed.dispatchEvent(new Event("input", { bubbles: true }));
  });
  // The settings live in the address (?class=207&seed=3&steps=2&images=4); the model does not: a link must not
  // start a 1.2 GB download. The class applies when a model with classes is loaded.
  seed.value = String(urlField("seed", integerIn(0, 1e9), 0, { get: () => Math.floor(Number(seed.value) || 0), set: (v) => (seed.value = String(v)), watch: (on) => seed.addEventListener("input", on) }));
  const stepsChosen = urlField("steps", oneOf([1, 2]), 1, {
    get: checkedSteps,
    set: (v) => stepInputs.forEach((input) => (input.checked = input.value === String(v))),
    watch: (on) => stepInputs.forEach((input) => input.addEventListener("change", on)),
  });
  stepInputs.forEach((input) => (input.checked = input.value === String(stepsChosen)));
  count.value = String(urlField("images", integerIn(1, MAX_BATCH), 4, { get: () => Number(count.value), set: (v) => (count.value = String(v)), watch: (on) => count.addEventListener("change", on) }));
  let wantedClass: number = urlField("class", integerIn(0, 999), DEFAULT_IMAGENET_CLASS, {
    get: (): number => (classes.value === "" ? wantedClass : Number(classes.value)),
    set: (v) => {
      wantedClass = v;
      if (options.some((o) => o.value === v)) classes.value = String(v);
      refreshButton();
    },
    watch: (on) => classes.addEventListener("change", () => {
      wantedClass = Number(classes.value);
      on();
    }),
  });
  button.addEventListener("click", () => {
    const steps = checkedSteps();
    const classLabel = shownModel?.numClasses ? Number(classes.value) : null;
    void session.sample({ steps, seed: Math.floor(Number(seed.value) || 0), count: Number(count.value), classLabel, twoStep: shownModel?.twoStep ?? "cd" });
  });

  session.subscribe((state: SessionState) => {
    const model = state.model;
    if (model !== shownModel) {
      shownModel = model;
      const n = model?.numClasses ?? 0;
      const named = n === imagenetClasses.length;
      options = Array.from({ length: n }, (_, i) => ({ value: i, text: named ? `${i} ${shortClassName(imagenetClasses[i])}` : `class ${i}`, title: named ? imagenetClasses[i] : "" }));
      filter.value = "";
      fillClasses();
      if (options.some((o) => o.value === wantedClass)) classes.value = String(wantedClass);
      classRow.hidden = n === 0;
    }
    refreshButton();
  });
  classes.addEventListener("change", refreshButton);
  return panel;
}
