/**
 * Bridge a task that reports progress through a callback (a download into Cache Storage, a model loading a
 * stream of tensors) to a job, which is an async generator that yields its progress. Reports that arrive
 * while the consumer is busy are coalesced to the latest one: a progress bar needs only the newest state.
 * `onTick` runs at least every `tickMs`, so the job can notice a stop request even while no report comes
 * (a stalled connection).
 */
export async function* reportsOf<P, T>(task: (report: (progress: P) => void) => Promise<T>, { tickMs = 200, onTick }: { tickMs?: number; onTick?: () => void } = {}): AsyncGenerator<P, T> {
  let latest: P | undefined;
  let fresh = false;
  let settled: { ok: true; value: T } | { ok: false; error: unknown } | undefined;
  let wake: (() => void) | null = null;
  const notify = () => {
    const resume = wake;
    wake = null;
    resume?.();
  };
  task((progress) => {
    latest = progress;
    fresh = true;
    notify();
  }).then(
    (value) => {
      settled = { ok: true, value };
      notify();
    },
    (error: unknown) => {
      settled = { ok: false, error };
      notify();
    },
  );
  for (;;) {
    if (!fresh && !settled) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, tickMs);
        wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
    onTick?.();
    if (fresh) {
      fresh = false;
      yield latest as P;
    }
    if (settled) {
      if (settled.ok) return settled.value;
      throw settled.error;
    }
  }
}
