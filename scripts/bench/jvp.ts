/**
 * npm run bench:jvp [-- --backend cpu|webgpu --repeats 5 --unet-batch 2 --unet-channels 16 --mlp-batch 256]
 *
 * What a JVP costs, as ratios to a plain forward pass of the same network, measured side by side in one
 * process (the candidates are interleaved within each repeat, and the median over repeats is printed, so
 * machine noise hits all of them alike). Absolute times on a CPU say nothing about a GPU; ratios travel.
 */
import * as tf from "@tensorflow/tfjs";
import { TimeConditionedMlp } from "../../src/components/nn/mlp.ts";
import { SmallUNet } from "../../src/components/nn/unet.ts";
import { doubleVjpJvp, finiteDifferenceJvp, forward, jvp, type FlowNetwork } from "../../src/components/nn/network.ts";
import { plainAlgebra } from "../../src/components/nn/algebra.ts";
import { parseCommandLine } from "../options.ts";

const args = parseCommandLine("bench:jvp", { backend: "value", repeats: "value", "unet-batch": "value", "unet-channels": "value", "mlp-batch": "value" });
const backend = args.get("backend") ?? "cpu";
// Defaults sized for TF.js's pure-JavaScript CPU backend in Node (about 0.3 GFLOP/s here): a full-size
// step would take minutes. On a GPU, raise --unet-batch and --unet-channels.
const repeats = Number(args.get("repeats") ?? 5);
const unetBatch = Number(args.get("unet-batch") ?? 2);
const unetChannels = Number(args.get("unet-channels") ?? 16);
const mlpBatch = Number(args.get("mlp-batch") ?? 256);

if (backend === "webgpu") {
  const { create, globals } = await import("webgpu");
  Object.assign(globalThis, globals);
  Object.defineProperty(globalThis, "navigator", { value: { gpu: create([]) }, configurable: true, writable: true });
  await import("@tensorflow/tfjs-backend-webgpu");
}
if (!(await tf.setBackend(backend))) throw new Error(`backend ${backend} is not available`);

/** Run fn, wait until its result is computed (GPU backends are asynchronous), dispose, return ms. */
async function time(fn: () => tf.Tensor | tf.Tensor[]): Promise<number> {
  const start = performance.now();
  const out = fn();
  await Promise.all((Array.isArray(out) ? out : [out]).map((x) => x.data()));
  const elapsed = performance.now() - start;
  tf.dispose(out);
  return elapsed;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** Time every candidate `repeats` times, interleaved, after one warm-up each. Returns median ms per name. */
async function compare(candidates: Record<string, () => tf.Tensor | tf.Tensor[]>): Promise<Record<string, number>> {
  const samples: Record<string, number[]> = {};
  for (const [name, fn] of Object.entries(candidates)) {
    await time(fn);
    samples[name] = [];
  }
  for (let r = 0; r < repeats; r++) {
    for (const [name, fn] of Object.entries(candidates)) samples[name].push(await time(fn));
  }
  return Object.fromEntries(Object.entries(samples).map(([name, s]) => [name, median(s)]));
}

function inputs(net: FlowNetwork, shape: number[]) {
  return {
    u: tf.randomNormal(shape, 0, 1, "float32", 1),
    t: tf.randomUniform([shape[0]], 0.05, 1.5, "float32", 2),
    uDot: tf.randomNormal(shape, 0, 1, "float32", 3),
    tDot: tf.randomNormal([shape[0]], 0, 1, "float32", 4),
    net,
  };
}

/** One optimiser step on ‖F − target‖²: the diffusion step, and the regression half of an sCT step. */
function regressionStep(net: FlowNetwork, optimizer: tf.Optimizer, u: tf.Tensor, t: tf.Tensor, target: tf.Tensor, seed: number): tf.Scalar {
  return optimizer.minimize(() => tf.mean(tf.square(tf.sub(net.apply(plainAlgebra, u, t, { dropoutSeed: seed }), target))) as tf.Scalar, true, net.params.trainableVariables())!;
}

const results: [string, number][] = [];

{
  const { net, u, t, uDot, tDot } = inputs(new TimeConditionedMlp(), [mlpBatch, 2]);
  const ms = await compare({
    forward: () => forward(net, u, t),
    dual: () => Object.values(jvp(net, u, t, uDot, tDot)),
  });
  results.push(["forward_ms_mlp", ms.forward], ["dual_over_forward_mlp", ms.dual / ms.forward]);
}

{
  const { net, u, t, uDot, tDot } = inputs(new SmallUNet({ dropout: 0.2, baseChannels: unetChannels, channelMult: [1, 2] }), [unetBatch, 32, 32, 3]);
  const optimizer = tf.train.adam(1e-4);
  const target = tf.zerosLike(u);
  let step = 0;
  const ms = await compare({
    forward: () => forward(net, u, t),
    dual: () => Object.values(jvp(net, u, t, uDot, tDot)),
    finiteDifference: () => finiteDifferenceJvp(net, u, t, uDot, tDot, 1e-3),
    doubleVjp: () => doubleVjpJvp(net, u, t, uDot, tDot),
    diffusionStep: () => regressionStep(net, optimizer, u, t, target, step++),
    sctStep: () => {
      // Alg. 1: the dual pass without tape gives F⁻ and dF⁻/dt (here with the image tangent), then one
      // taped forward + backward regresses F toward F⁻ + g. The g algebra is elementwise and negligible.
      const seed = step++;
      const { value, tangent } = jvp(net, u, t, uDot, tDot, { dropoutSeed: seed });
      const loss = regressionStep(net, optimizer, u, t, tf.add(value, tf.mul(tangent, 0.1)), seed);
      tf.dispose([value, tangent]);
      return loss;
    },
  });
  results.push(
    ["forward_ms_unet", ms.forward],
    ["dual_over_forward_unet", ms.dual / ms.forward],
    ["fd_over_forward_unet", ms.finiteDifference / ms.forward],
    ["doublevjp_over_forward_unet", ms.doubleVjp / ms.forward],
    ["sct_step_over_diffusion_step_unet", ms.sctStep / ms.diffusionStep],
  );
}

console.log(`# backend ${tf.getBackend()}, median of ${repeats} interleaved repeats; MLP 3×128 at batch ${mlpBatch}; UNet (${unetChannels}/${2 * unetChannels} channels, attention at 16×16) at batch ${unetBatch}×32×32×3`);
for (const [name, value] of results) console.log(`${name}: ${value.toFixed(name.endsWith("_ms_mlp") || name.endsWith("_ms_unet") ? 1 : 3)}`);
