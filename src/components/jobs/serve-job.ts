/**
 * The messages between a page and its jobs worker, and serveJob, which runs one job for a start message.
 */
import { JOBS, type JobName, type JobParams, type JobProgress, type JobResult } from "./registry.js";
import { JobControl } from "./job-control.js";
import { deviceLoss } from "../runtime/backend.js";
import { describeError } from "../checkpoint/errors.js";

/** Messages from page to worker. A command (e.g. "save") is a request a job handles between two of its steps. */
export type JobRequest =
  | { [N in JobName]: { type: "start"; id: number; job: N; params: JobParams<N> } }[JobName]
  | { type: "pause" | "resume" | "stop"; id: number }
  | { type: "command"; id: number; command: string };

/** Messages from worker to page, about job N. */
export type JobReply<N extends JobName = JobName> =
  | { type: "progress"; id: number; progress: JobProgress<N> }
  | { type: "done"; id: number; result: JobResult<N> }
  | { type: "error"; id: number; message: string };

/**
 * One turn of the worker's event loop: messages already queued (pause, stop, a command) are handled before this
 * resolves. A MessagePort message is a task like the page's messages, in the same task source (so it comes after
 * them) and without setTimeout's 4 ms clamp for nested timers, so a job can take one before every step.
 */
function messageQueueTurn(): Promise<void> {
  return new Promise((resolve) => {
    const { port1, port2 } = new MessageChannel();
    port1.onmessage = () => {
      port1.close();
      resolve();
    };
    port2.postMessage(null);
  });
}

/**
 * Drive a job for one request, posting progress (at most every `throttleMs`, except reports marked
 * `milestone`, which always go), the result, or one error
 * message; `control` pauses it between steps or stops it (a stopped job returns its result so far). Used by
 * the worker entry and directly by tests.
 */
export async function serveJob(request: Extract<JobRequest, { type: "start" }>, post: (reply: JobReply) => void, control: JobControl = new JobControl(), throttleMs = 100): Promise<void> {
  // The one place where the job's own types are set aside: the request names any job, and its replies go back as
  // JobReply of that job (the page's worker client reads them with the job's types).
  const job = JOBS[request.job] as (params: unknown, stop: () => boolean, control: JobControl) => AsyncGenerator<JobProgress<JobName>, JobResult<JobName>>;
  if (!job) return post({ type: "error", id: request.id, message: `unknown job "${request.job}"` });
  let lastPost = 0;
  try {
    const iterator = job(request.params, () => control.isStopped, control);
    for (;;) {
      // On TF.js's CPU and WASM backends a step never waits for a macrotask (every await settles as a microtask),
      // so the worker would not see a pause, stop or command message until the job ended. Let them in before
      // every step, so that a pause lands after the step in flight (several jobs paused together stop together).
      await messageQueueTurn();
      await control.checkpoint();
      if (deviceLoss()) throw new Error("it was between two steps");
      const { value, done } = await iterator.next();
      if (done) return post({ type: "done", id: request.id, result: value });
      const now = Date.now();
      if (now - lastPost >= throttleMs || (value as { milestone?: boolean } | null)?.milestone) {
        lastPost = now;
        post({ type: "progress", id: request.id, progress: value });
      }
    }
  } catch (error) {
    post({ type: "error", id: request.id, message: describeJobError(error) });
  }
}

/**
 * One sentence for a failed job. After a lost WebGPU device every GPU call fails with a message about buffers or
 * instances that says nothing to a reader; name the real cause and the way out instead.
 */
export function describeJobError(error: unknown, lost: string | null = deviceLoss()): string {
  const message = describeError(error);
  if (lost) return `${lost}, so the run stopped (${message}). Reload the page to start again, or add ?backend=webgl to the address to use WebGL.`;
  return message;
}
