/**
 * What every live training cell shares: Pause/Resume and Stop buttons for a job running in a worker
 * (worker-client.ts), and the generator that turns the job's events into the states a cell draws.
 */
import type { JobName, JobProgress, JobResult } from "../components/jobs/registry.js";
import type { JobControls, WorkerJob } from "./worker-client.js";

export interface JobButtons {
  pause: HTMLButtonElement;
  stop: HTMLButtonElement;
  isPaused(): boolean;
}

/**
 * The two buttons, appended to `container`; `onStop` runs after a stop was sent (e.g. to disable more buttons).
 * Stop resumes a paused job first, so it can end between two steps and report its result. `job` may be several
 * jobs under one set of controls (worker-client.ts jobGroup).
 */
export function pauseStopButtons(job: JobControls, container: HTMLElement, onStop: () => void = () => {}): JobButtons {
  const pause = Object.assign(document.createElement("button"), { textContent: "Pause", title: "suspend the job between two steps" });
  const stop = Object.assign(document.createElement("button"), { textContent: "Stop", title: "end the job after the current step" });
  let paused = false;
  pause.onclick = () => {
    paused = !paused;
    paused ? job.pause() : job.resume();
    pause.textContent = paused ? "Resume" : "Pause";
  };
  stop.onclick = () => {
    if (paused) job.resume();
    job.stop();
    pause.disabled = stop.disabled = true;
    onStop();
  };
  container.append(pause, " ", stop, " ");
  return { pause, stop, isPaused: () => paused };
}

/** The part of a live run's state that the run's end sets. */
export interface LiveJobState {
  status: string;
  running: boolean;
  failed: boolean;
}

export interface LiveJobHandlers<N extends JobName, S> {
  /** fold one progress report into the state */
  progress(progress: JobProgress<N>): void;
  /** the status line for the job's result */
  result(result: JobResult<N>): string;
  /** called once when the job has ended, whichever way (e.g. to disable its buttons) */
  finish(): void;
  /** the copy of the state to yield (a cell must not see later changes to an object it already drew) */
  snapshot(state: S): S;
}

/**
 * The shortest time between two states drawn for ordinary progress. Every state redraws the run's figures on the
 * page's main thread; at the worker's 10 reports per second per run, two runs' redraws took the CPU the
 * workers train on (a 2-core machine without a GPU finished /stabilizers' default A/B run several times slower).
 */
export const REDRAW_INTERVAL_MS = 500;

/**
 * The states of a live run: the initial state, then after events — every report marked a milestone (a
 * measurement), ordinary progress at most every REDRAW_INTERVAL_MS — and a last one when the job ends or fails.
 * Every event is folded into the state, so a skipped state loses nothing: the next one carries it.
 */
export async function* liveJobStates<N extends JobName, S extends LiveJobState>(job: WorkerJob<N>, state: S, handlers: LiveJobHandlers<N, S>): AsyncGenerator<S> {
  yield handlers.snapshot(state);
  let drawn = performance.now();
  for await (const event of job.events) {
    if ("progress" in event) {
      handlers.progress(event.progress);
      const milestone = (event.progress as { milestone?: boolean }).milestone === true;
      if (!milestone && performance.now() - drawn < REDRAW_INTERVAL_MS) continue;
    } else {
      state.status = "result" in event ? handlers.result(event.result) : `training stopped: ${event.error}`;
      state.running = false;
      state.failed = "error" in event;
      handlers.finish();
    }
    drawn = performance.now();
    yield handlers.snapshot(state);
  }
}
