import { test } from "node:test";
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { RAdamOptimizer } from "../src/components/training/radam.ts";
import { assertClose } from "./helpers.ts";

await tf.setBackend("cpu");

/** Float64 reference of PyTorch's RAdam for one scalar parameter and a gradient function. */
function reference(theta0: number, grad: (theta: number) => number, steps: number, lr: number, b1: number, b2: number, eps: number): number[] {
  let theta = theta0;
  let m = 0;
  let v = 0;
  const rhoInf = 2 / (1 - b2) - 1;
  const path: number[] = [];
  for (let k = 1; k <= steps; k++) {
    const g = grad(theta);
    m = b1 * m + (1 - b1) * g;
    v = b2 * v + (1 - b2) * g * g;
    const mHat = m / (1 - b1 ** k);
    const rho = rhoInf - (2 * k * b2 ** k) / (1 - b2 ** k);
    if (rho > 5) {
      const r = Math.sqrt(((rho - 4) * (rho - 2) * rhoInf) / ((rhoInf - 4) * (rhoInf - 2) * rho));
      theta -= (lr * mHat * r * Math.sqrt(1 - b2 ** k)) / (Math.sqrt(v) + eps);
    } else {
      theta -= lr * mHat;
    }
    path.push(theta);
  }
  return path;
}

test("RAdam matches PyTorch's update rule, through the un-rectified warm-up and after it", () => {
  // f(θ) = (θ − 3)²·½·c with c = 4: gradient 4(θ − 3). β2 = 0.9 makes ρ_k > 5 from step 6 on, so both branches run.
  const theta = tf.variable(tf.scalar(0.5));
  const optimizer = new RAdamOptimizer(0.05, 0.9, 0.9, 1e-8);
  const path: number[] = [];
  for (let k = 0; k < 20; k++) {
    optimizer.minimize(() => tf.mul(2, tf.square(tf.sub(theta, 3))) as tf.Scalar, false, [theta]);
    path.push(theta.dataSync()[0]);
  }
  const expected = reference(0.5, (x) => 4 * (x - 3), 20, 0.05, 0.9, 0.9, 1e-8);
  assertClose(path, expected, 1e-5); // float32 state vs float64 reference over 20 steps
  assertClose(path[0], 0.5 + 0.05 * 10, 1e-6, "step 1 is plain momentum: θ − lr·g");
  assert.ok(Math.abs(path[19] - 3) < Math.abs(0.5 - 3), "it moves toward the minimum");
  optimizer.dispose();
});
