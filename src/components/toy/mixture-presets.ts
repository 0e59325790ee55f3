/**
 * Ready-made 2D Gaussian mixtures for the pages. Geometries are scaled so the data's per-coordinate standard
 * deviation is close to σd = 0.5, the scale TrigFlow assumes (§3): the noise then has the data's size.
 */
import { createMixture, type GaussianMixture } from "../trigflow/gaussian-mixture.js";

export type MixturePresetName = "ring" | "grid" | "two-moons-ish" | "unbalanced-pair" | "spiral";

export interface MixturePresetOptions {
  /** number of modes (ignored by presets with a fixed count) */
  modes: number;
  /** std of every mode */
  spread: number;
}

export const MIXTURE_PRESETS: Record<MixturePresetName, { label: string; fixedModes?: number }> = {
  ring: { label: "Ring of modes" },
  grid: { label: "Square grid" },
  spiral: { label: "Spiral" },
  "unbalanced-pair": { label: "Two modes, weights 4:1", fixedModes: 2 },
  "two-moons-ish": { label: "Two crescents", fixedModes: 16 },
};

export function mixturePreset(name: MixturePresetName, { modes, spread }: MixturePresetOptions): GaussianMixture {
  const K = Math.max(1, Math.round(modes));
  switch (name) {
    case "ring": {
      const radius = 0.65;
      return createMixture(
        Array.from({ length: K }, (_, k) => [radius * Math.cos((2 * Math.PI * k) / K), radius * Math.sin((2 * Math.PI * k) / K)]),
        spread,
      );
    }
    case "grid": {
      const side = Math.max(1, Math.round(Math.sqrt(K)));
      const step = side > 1 ? 1.6 / (side - 1) : 0;
      const means: number[][] = [];
      for (let i = 0; i < side; i++) for (let j = 0; j < side; j++) means.push([-0.8 + i * step, -0.8 + j * step]);
      return createMixture(side > 1 ? means : [[0, 0]], spread);
    }
    case "spiral": {
      return createMixture(
        Array.from({ length: K }, (_, k) => {
          const angle = (3 * Math.PI * (k + 1)) / Math.max(K, 1);
          const r = 0.15 + (0.75 * (k + 1)) / K;
          return [r * Math.cos(angle), r * Math.sin(angle)];
        }),
        spread,
      );
    }
    case "unbalanced-pair":
      return createMixture([[-0.5, -0.3], [0.6, 0.45]], spread, [4, 1]);
    case "two-moons-ish": {
      const means: number[][] = [];
      for (let k = 0; k < 8; k++) {
        const a = (Math.PI * k) / 7;
        means.push([0.6 * Math.cos(a) - 0.3, 0.6 * Math.sin(a) - 0.1]);
        means.push([0.3 - 0.6 * Math.cos(a), 0.1 - 0.6 * Math.sin(a)]);
      }
      return createMixture(means, spread);
    }
  }
}
