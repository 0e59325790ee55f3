/**
 * What the stabilizers page watches while a consistency model trains, accumulated between two reports:
 * - ‖g‖ (the tangent before normalisation) binned by t: tangent normalisation matters because ‖g‖ varies by
 *   orders of magnitude across t and across steps (§4.2);
 * - the gradient norm's mean and variance over steps (Fig. 5a compares runs by exactly this variance);
 * - the loss's mean.
 * Plain numbers only: no tensors, so it travels through worker messages and JSON files as it is.
 */

export interface TimeBin {
  /** bin edges in TrigFlow time (radians) */
  t0: number;
  t1: number;
  count: number;
  meanNorm: number;
  maxNorm: number;
}

export interface DiagnosticsSnapshot {
  /** steps accumulated in this snapshot */
  steps: number;
  meanLoss: number;
  gradientNormMean: number;
  /** variance of the per-step gradient norm across the steps of the snapshot */
  gradientNormVariance: number;
  /** ‖g‖ per t bin; empty for objectives without a tangent (teacher, ECT) */
  tangentNormByTime: TimeBin[];
}

export const TIME_BINS = 12;

export class TrainingDiagnostics {
  private steps = 0;
  private lossSum = 0;
  private gradientSum = 0;
  private gradientSquares = 0;
  private readonly counts = new Array<number>(TIME_BINS).fill(0);
  private readonly sums = new Array<number>(TIME_BINS).fill(0);
  private readonly maxima = new Array<number>(TIME_BINS).fill(0);

  /** Record one step: its loss, gradient norm, and (for tangent objectives) each sample's t and ‖g‖. */
  record(loss: number, gradientNorm: number, times?: ArrayLike<number>, tangentNorms?: ArrayLike<number>): void {
    this.steps++;
    this.lossSum += loss;
    this.gradientSum += gradientNorm;
    this.gradientSquares += gradientNorm * gradientNorm;
    if (!times || !tangentNorms) return;
    for (let i = 0; i < times.length; i++) {
      const bin = Math.min(TIME_BINS - 1, Math.max(0, Math.floor((times[i] / (Math.PI / 2)) * TIME_BINS)));
      this.counts[bin]++;
      this.sums[bin] += tangentNorms[i];
      this.maxima[bin] = Math.max(this.maxima[bin], tangentNorms[i]);
    }
  }

  /** The statistics since the last take, then start afresh. */
  take(): DiagnosticsSnapshot {
    const n = Math.max(1, this.steps);
    const mean = this.gradientSum / n;
    const snapshot: DiagnosticsSnapshot = {
      steps: this.steps,
      meanLoss: this.lossSum / n,
      gradientNormMean: mean,
      // Population variance over the window; max(0, ·) guards round-off in E[x²] − E[x]².
      gradientNormVariance: Math.max(0, this.gradientSquares / n - mean * mean),
      tangentNormByTime: this.counts.flatMap((count, i) =>
        count === 0 ? [] : [{ t0: (i * Math.PI) / 2 / TIME_BINS, t1: ((i + 1) * Math.PI) / 2 / TIME_BINS, count, meanNorm: this.sums[i] / count, maxNorm: this.maxima[i] }],
      ),
    };
    this.steps = this.lossSum = this.gradientSum = this.gradientSquares = 0;
    this.counts.fill(0);
    this.sums.fill(0);
    this.maxima.fill(0);
    return snapshot;
  }
}
