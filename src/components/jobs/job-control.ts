/**
 * How a page controls a job that runs in its worker (serve-job.ts delivers the messages).
 */

/**
 * Pause, resume, stop and commands for one running job; the job is only ever suspended between two of its
 * steps. A command wakes a paused job for one step of the generator, in which the job answers it (and yields)
 * without training, so "save" works while paused.
 */
export class JobControl {
  private paused = false;
  private stopped = false;
  private wake: (() => void) | null = null;
  private readonly commands: string[] = [];
  command(name: string): void {
    this.commands.push(name);
    this.wake?.();
  }
  /** Commands received since the last call, oldest first. */
  takeCommands(): string[] {
    return this.commands.splice(0);
  }
  get isPaused(): boolean {
    return this.paused;
  }
  pause(): void {
    this.paused = true;
  }
  resume(): void {
    this.paused = false;
    this.wake?.();
  }
  stop(): void {
    this.stopped = true;
    this.wake?.();
  }
  get isStopped(): boolean {
    return this.stopped;
  }
  /** Wait here while paused; resolves at once when running or stopped, or when a command arrives. */
  async checkpoint(): Promise<void> {
    while (this.paused && !this.stopped && this.commands.length === 0) await new Promise<void>((resolve) => (this.wake = resolve));
  }
}
