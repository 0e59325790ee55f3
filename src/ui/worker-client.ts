/**
 * Run a job of components/jobs/registry.ts in the jobs Web Worker and expose it as an async generator for a Framework
 * cell: it yields {progress} messages and finally {result}, or {error} with a readable message. The worker
 * is terminated when the job ends or when the cell is invalidated (the reader changed an input); pause,
 * resume and stop reach the job between two of its steps (components/jobs/job-control.ts).
 *
 * One backend per page: the first worker chooses (backend.ts, honouring the page's `?backend=`), and every
 * job's worker is then started with `?backend=<that choice>`. So all figures of a page run on the same backend,
 * and each later worker probes one backend instead of trying them all.
 */
import type { BackendReport } from "../components/runtime/backend.js";
import type { JobName, JobParams, JobProgress, JobResult } from "../components/jobs/registry.js";
import type { JobReply } from "../components/jobs/serve-job.js";

/** What a page sees of job N: its progress reports, then its result or one error message. */
export type JobEvent<N extends JobName = JobName> = { progress: JobProgress<N> } | { result: JobResult<N> } | { error: string };

/** A job running in its own worker: its events, and the controls the worker understands between two steps. */
export interface WorkerJob<N extends JobName = JobName> {
  events: AsyncGenerator<JobEvent<N>>;
  pause(): void;
  resume(): void;
  stop(): void;
  /** a request the job answers between two steps, even while paused (e.g. "save") */
  command(name: string): void;
}

/** The worker's URL with a `?backend=` for backend.ts to read from the worker's own location. */
export function workerUrlWithBackend(workerUrl: string, backend: string | null): string {
  if (!backend) return workerUrl;
  return `${workerUrl}${workerUrl.includes("?") ? "&" : "?"}backend=${encodeURIComponent(backend)}`;
}

const pageBackend = new URLSearchParams(globalThis.location?.search ?? "").get("backend");
let choice: Promise<BackendReport> | null = null;

/**
 * The page's backend, chosen once by a worker of its own (which then ends): the report that the backend notice
 * shows, and the backend every job's worker is started on.
 */
export function pageBackendReport(workerUrl: string): Promise<BackendReport> {
  choice ??= (async () => {
    const worker = new Worker(workerUrlWithBackend(workerUrl, pageBackend), { type: "module" });
    try {
      for await (const event of workerEvents(worker, "backend", {}, new Promise(() => {}))) {
        if ("result" in event) return event.result;
        if ("error" in event) throw new Error(event.error);
      }
      throw new Error("the worker ended without choosing a backend");
    } finally {
      worker.terminate();
    }
  })();
  return choice;
}

export function startJobInWorker<N extends JobName>(workerUrl: string, job: N, params: JobParams<N>, invalidation: Promise<unknown>): WorkerJob<N> {
  // The worker starts once the page's backend is known; controls pressed before that are sent when it starts.
  const ready: Promise<Worker | string> = pageBackendReport(workerUrl)
    .then((report) => report.active as string, () => pageBackend)
    .then((backend) => new Worker(workerUrlWithBackend(workerUrl, backend), { type: "module" }))
    .catch((error: Error) => `this browser cannot start a Web Worker (${error.message})`);
  const send = (message: object) => ready.then((worker) => typeof worker !== "string" && worker.postMessage({ id: 1, ...message }));
  return {
    events: (async function* () {
      const worker = await ready;
      if (typeof worker === "string") return yield { error: worker };
      yield* workerEvents(worker, job, params, invalidation);
    })(),
    pause: () => send({ type: "pause" }),
    resume: () => send({ type: "resume" }),
    stop: () => send({ type: "stop" }),
    command: (command) => send({ type: "command", command }),
  };
}

async function* workerEvents<N extends JobName>(worker: Worker, job: N, params: JobParams<N>, invalidation: Promise<unknown>): AsyncGenerator<JobEvent<N>> {
  const inbox: JobReply<N>[] = [];
  let wake: (() => void) | null = null;
  const deliver = (reply: JobReply<N>) => {
    inbox.push(reply);
    wake?.();
  };
  // The worker answers the job it was started with (serve-job.ts), so its replies carry job N's types.
  worker.onmessage = (event: MessageEvent<JobReply<N>>) => deliver(event.data);
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

export function runJobInWorker<N extends JobName>(workerUrl: string, job: N, params: JobParams<N>, invalidation: Promise<unknown>): AsyncGenerator<JobEvent<N>> {
  return startJobInWorker(workerUrl, job, params, invalidation).events;
}
