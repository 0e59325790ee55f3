/**
 * Sort the files a reader chose or dropped into the weights and an optional config.json. The contents are
 * judged later by the checkpoint reader (a .bin pickle gets its own message there); here only the roles.
 */
export type ChosenFiles = { weights: File; config: File | null } | { error: string };

const isJson = (file: File) => file.name.toLowerCase().endsWith(".json") || file.type === "application/json";

export function classifyFiles(files: readonly File[]): ChosenFiles {
  if (files.length === 0) return { error: "no file was chosen" };
  const configs = files.filter(isJson);
  const weights = files.filter((f) => !isJson(f));
  if (configs.length > 1) return { error: `choose one config.json at a time (you chose ${configs.map((f) => f.name).join(", ")})` };
  if (weights.length === 0) return { error: `${configs[0].name} is a config; choose the weights file (.safetensors) together with it` };
  if (weights.length > 1) return { error: `choose one weights file at a time (you chose ${weights.map((f) => f.name).join(", ")})` };
  return { weights: weights[0], config: configs[0] ?? null };
}
