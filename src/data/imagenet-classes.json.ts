// Data loader: the 1000 ImageNet class names, index = class id, from the npm package
// @tensorflow-models/mobilenet (its dist/imagenet_classes.js), so the page needs neither the network nor
// MobileNet itself. The OpenAI ImageNet-64 models number classes the same way (the standard ILSVRC-2012 order,
// 0 = tench, 207 = golden retriever, 999 = toilet tissue); the checks below fail the build if the package ever
// ships another order.
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
const { IMAGENET_CLASSES } = require("@tensorflow-models/mobilenet/dist/imagenet_classes.js") as { IMAGENET_CLASSES: Record<string, string> };

const names = Array.from({ length: 1000 }, (_, id) => {
  const name = IMAGENET_CLASSES[id];
  if (typeof name !== "string") throw new Error(`@tensorflow-models/mobilenet has no ImageNet class ${id}`);
  return name;
});
const expect = (id: number, start: string) => {
  if (!names[id].startsWith(start)) throw new Error(`ImageNet class ${id} is "${names[id]}", expected "${start}…": the class order changed`);
};
expect(0, "tench");
expect(1, "goldfish");
expect(207, "golden retriever");
expect(999, "toilet tissue");
if (Object.keys(IMAGENET_CLASSES).length !== 1000) throw new Error(`expected 1000 ImageNet classes, got ${Object.keys(IMAGENET_CLASSES).length}`);

process.stdout.write(JSON.stringify(names));
