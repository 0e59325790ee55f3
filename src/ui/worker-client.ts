/**
 * Run a job of worker-jobs.ts in the jobs Web Worker and expose it as an async generator for a Framework
 * cell: it yields {progress} messages and finally {result}, or {error} with a readable message. The worker
 * is terminated when the job ends or when the cell is invalidated (the reader changed an input).
 */
import type { JobName, JobReply } from "../components/worker-jobs.js";

export type JobEvent = { progress: unknown } | { result: unknown } | { error: string };

export async function* runJobInWorker(workerUrl: string, job: JobName, params: unknown, invalidation: Promise<unknown>): AsyncGenerator<JobEvent> {
  let worker: Worker;
  try {
    worker = new Worker(workerUrl, { type: "module" });
  } catch (error) {
    yield { error: `this browser cannot start a Web Worker (${(error as Error).message})` };
    return;
  }
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
