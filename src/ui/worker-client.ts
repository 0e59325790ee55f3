/**
 * Run a job of worker-jobs.ts in the jobs Web Worker and expose it as an async generator for a Framework
 * cell: it yields {progress} messages and finally {result}, or {error} with a readable message. The worker
 * is terminated when the job ends or when the cell is invalidated (the reader changed an input); pause,
 * resume and stop reach the job between two of its steps (worker-jobs.ts JobControl).
 */
import type { JobName, JobReply } from "../components/worker-jobs.js";

export type JobEvent = { progress: unknown } | { result: unknown } | { error: string };

/** A job running in its own worker: its events, and the controls the worker understands between two steps. */
export interface WorkerJob {
  events: AsyncGenerator<JobEvent>;
  pause(): void;
  resume(): void;
  stop(): void;
  /** a request the job answers between two steps, even while paused (e.g. "save") */
  command(name: string): void;
}

/**
 * The worker's URL, carrying the page's `?backend=` choice: the worker reads it from its own location when it
 * picks its TF.js backend (backend.ts), so a forced backend reaches the code that actually runs the math.
 */
export function workerUrlWithBackend(workerUrl: string, pageSearch = globalThis.location?.search ?? ""): string {
  const backend = new URLSearchParams(pageSearch).get("backend");
  if (!backend) return workerUrl;
  return `${workerUrl}${workerUrl.includes("?") ? "&" : "?"}backend=${encodeURIComponent(backend)}`;
}

export function startJobInWorker(workerUrl: string, job: JobName, params: unknown, invalidation: Promise<unknown>): WorkerJob {
  let worker: Worker | null = null;
  let startError: string | null = null;
  try {
    worker = new Worker(workerUrlWithBackend(workerUrl), { type: "module" });
  } catch (error) {
    startError = `this browser cannot start a Web Worker (${(error as Error).message})`;
  }
  const send = (type: "pause" | "resume" | "stop") => worker?.postMessage({ type, id: 1 });
  return {
    events: events(worker, startError, job, params, invalidation),
    pause: () => send("pause"),
    resume: () => send("resume"),
    stop: () => send("stop"),
    command: (command) => worker?.postMessage({ type: "command", id: 1, command }),
  };
}

async function* events(worker: Worker | null, startError: string | null, job: JobName, params: unknown, invalidation: Promise<unknown>): AsyncGenerator<JobEvent> {
  if (!worker) return yield { error: startError ?? "no worker" };
  const inbox: JobReply[] = [];
  let wake: (() => void) | null = null;
  const deliver = (reply: JobReply) => {
    inbox.push(reply);
    wake?.();
  };
  worker.onmessage = (event: MessageEvent<JobReply>) => deliver(event.data);
  worker.onerror = (event) => deliver({ type: "error", id: 1, message: event.message || "the worker failed to load" });
  invalidation.then(() => worker.terminate());
  worker.postMessage({ type: "start", id: 1, job, params });
  try {
    for (;;) {
      if (inbox.length === 0) await new Promise<void>((resolve) => (wake = resolve));
      const reply = inbox.shift()!;
      if (reply.type === "progress") yield { progress: reply.progress };
      else if (reply.type === "done") return yield { result: reply.result };
      else return yield { error: reply.message };
    }
  } finally {
    worker.terminate();
  }
}

export function runJobInWorker(workerUrl: string, job: JobName, params: unknown, invalidation: Promise<unknown>): AsyncGenerator<JobEvent> {
  return startJobInWorker(workerUrl, job, params, invalidation).events;
}
