// Data loader: the parameter count of each CIFAR-10 UNet preset, computed at build time by building each network
// once on TF.js's CPU backend in Node. The page used to build them in the browser on its main thread just to count
// (the base preset alone draws 6.9 M initial weights): a long frozen task before the form appeared.
const log = console.log;
// TF.js greets Node users on standard output; this loader's standard output is its JSON.
console.log = (...args: unknown[]) => console.error(...args);
const tf = await import("@tensorflow/tfjs");
await tf.setBackend("cpu");
const { UNET_PRESETS } = await import("../components/image/image-run-config.js");
const { unetParameterCount } = await import("../components/image/image-run.js");
const counts = Object.fromEntries(Object.entries(UNET_PRESETS).map(([name, preset]) => [name, unetParameterCount(preset)]));
log(JSON.stringify(counts));
export {};
