/**
 * Download progress for a progress bar: bytes so far, the total when known, the rate over the last few
 * seconds (a whole-download average would hide a stall) and the time left at that rate.
 */

export interface DownloadProgress {
  receivedBytes: number;
  /** Undefined while the size is unknown (a server that sends no length). */
  totalBytes: number | undefined;
  /** Over the last few seconds; 0 until time has passed. */
  bytesPerSecond: number;
  /** Seconds left at the current rate; undefined when the total or the rate is unknown. */
  etaSeconds: number | undefined;
}

export type ProgressCallback = (progress: DownloadProgress) => void;

export interface ProgressMeterOptions {
  /** Least time between two reports, so a UI is not flooded with one call per network chunk. */
  intervalMs?: number;
  /** The rate is measured over this much recent time. */
  windowMs?: number;
  /** Milliseconds clock; tests pass a fake one. */
  now?: () => number;
}

export class ProgressMeter {
  totalBytes: number | undefined = undefined;
  receivedBytes = 0;
  private readonly intervalMs: number;
  private readonly windowMs: number;
  private readonly now: () => number;
  private readonly samples: { time: number; bytes: number }[];
  private lastReport = -Infinity;

  constructor(
    private readonly report: ProgressCallback | undefined,
    options: ProgressMeterOptions = {},
  ) {
    this.intervalMs = options.intervalMs ?? 100;
    this.windowMs = options.windowMs ?? 5000;
    this.now = options.now ?? (() => performance.now());
    this.samples = [{ time: this.now(), bytes: 0 }];
  }

  /** Count bytes that arrived; reports when the interval has passed. */
  add(bytes: number): void {
    this.receivedBytes += bytes;
    const time = this.now();
    // One sample per 100 ms is plenty to measure a rate, and keeps the window short.
    if (time - this.samples[this.samples.length - 1].time >= 100) this.samples.push({ time, bytes: this.receivedBytes });
    while (this.samples.length > 2 && time - this.samples[1].time >= this.windowMs) this.samples.shift();
    if (this.report && time - this.lastReport >= this.intervalMs) {
      this.lastReport = time;
      this.report(this.snapshot(time));
    }
  }

  /** Report the final state whatever the interval. */
  finish(): void {
    this.report?.(this.snapshot(this.now()));
  }

  snapshot(time = this.now()): DownloadProgress {
    const oldest = this.samples[0];
    const seconds = (time - oldest.time) / 1000;
    const bytesPerSecond = seconds > 0 ? (this.receivedBytes - oldest.bytes) / seconds : 0;
    const left = this.totalBytes === undefined ? undefined : Math.max(0, this.totalBytes - this.receivedBytes);
    const etaSeconds = left === undefined ? undefined : left === 0 ? 0 : bytesPerSecond > 0 ? left / bytesPerSecond : undefined;
    return { receivedBytes: this.receivedBytes, totalBytes: this.totalBytes, bytesPerSecond, etaSeconds };
  }
}
