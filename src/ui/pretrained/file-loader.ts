/**
 * Load a checkpoint from the reader's disk: a file picker and a drop zone that take the weights and, for a
 * diffusers UNet, its config.json together. A lone diffusers weights file can borrow a known model's config
 * (fetched from the hub); an sCM Lab checkpoint needs nothing else. The files go to the worker as File
 * objects, which it reads from disk itself.
 */
import { KNOWN_MODELS, TWO_STEP_SIGMA, type TwoStepSetting } from "../../components/pretrained/models.js";
import { element } from "./dom.js";
import { taskStatus } from "./status.js";
import type { PretrainedSession, SessionState } from "./session.js";

export function fileLoader(session: PretrainedSession): HTMLElement {
  const input = element("input", { type: "file", multiple: true });
  input.setAttribute("aria-label", "Checkpoint files (weights .safetensors, and config.json for a diffusers UNet)");
  const fallback = element("select", {}, element("option", { value: "", textContent: "none: I choose its config.json too" }), ...KNOWN_MODELS.map((m) => element("option", { value: m.id, textContent: `the config of ${m.label} (fetched from Hugging Face)` })));
  fallback.setAttribute("aria-label", "Config for a lone diffusers weights file");
  const sigma = (setting: TwoStepSetting) => TWO_STEP_SIGMA[setting].toFixed(3);
  const twoStep = element("select", {}, element("option", { value: "cd", textContent: `CD's (σ = ${sigma("cd")})` }), element("option", { value: "ct", textContent: `CT's (σ = ${sigma("ct")})` }));
  twoStep.setAttribute("aria-label", "Second noise level of a diffusers model");
  const zone = element("div", { className: "pretrained-drop" }, element("strong", { textContent: "Drop checkpoint files here" }), " or ", input);

  const load = (files: FileList | null) => {
    const chosen = KNOWN_MODELS.find((m) => m.id === fallback.value) ?? null;
    void session.loadFiles(Array.from(files ?? []), chosen, twoStep.value as TwoStepSetting);
  };
  input.addEventListener("change", () => {
    load(input.files);
    input.value = ""; // choosing the same file again must fire "change" again
  });
  zone.addEventListener("dragover", (event) => {
    event.preventDefault(); // without this the browser opens the dropped file instead
    zone.classList.add("over");
  });
  zone.addEventListener("dragleave", () => zone.classList.remove("over"));
  zone.addEventListener("drop", (event) => {
    event.preventDefault();
    zone.classList.remove("over");
    if (!session.current.task) load(event.dataTransfer?.files ?? null);
  });
  session.subscribe((state: SessionState) => {
    input.disabled = state.task !== null;
    zone.classList.toggle("busy", state.task !== null);
  });

  return element(
    "div",
    { className: "card pretrained-panel" },
    zone,
    taskStatus(session, ["file"]),
    element("div", { className: "pretrained-row" }, element("label", {}, "Config for a diffusers weights file chosen alone: ", fallback)),
    element("div", { className: "pretrained-row" }, element("label", {}, "Second noise level for a diffusers model: ", twoStep)),
  );
}
