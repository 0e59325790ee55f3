/**
 * Pause/Resume and Stop buttons for a job running in a worker (worker-client.ts), shared by the live training
 * cells. Stop resumes a paused job first, so it can end between two steps and report its result.
 */
import type { WorkerJob } from "./worker-client.js";

export interface JobButtons {
  pause: HTMLButtonElement;
  stop: HTMLButtonElement;
  isPaused(): boolean;
}

/** The two buttons, appended to `container`; `onStop` runs after a stop was sent (e.g. to disable more buttons). */
export function pauseStopButtons(job: WorkerJob, container: HTMLElement, onStop: () => void = () => {}): JobButtons {
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
