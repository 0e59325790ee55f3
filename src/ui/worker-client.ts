/**
 * The page side of the jobs worker (src/workers/jobs-worker.ts), the one client every page uses.
 *
 * A JobsWorker is one Web Worker that runs jobs of components/jobs/registry.ts, each addressed by its own id;
 * a started job is a WorkerJob: an async generator of {progress} events ending in {result} or one {error}
 * message, plus pause, resume, stop and commands, which the job sees between two of its steps
 * (components/jobs/job-control.ts). Two ways to use it:
 * - startJobInWorker: a worker for one job, for a Framework cell; it is terminated when the job ends or the cell
 *   is invalidated (the reader changed an input);
 * - a resident JobsWorker kept across jobs (the pretrained page: the loaded model lives in the worker between
 *   "load" and every "sample"), with resultOf for a job whose progress goes to a callback.
 * If a worker dies (a crash, or the browser killing it), each of its jobs ends with one error and `onLost` hears
 * the reason; the next job starts a fresh worker, without what the old one held.
 *
 * One backend per page: the first worker chooses (backend.ts, honouring the page's `?backend=`), and every job's
 * worker is then started with `?backend=<that choice>`. So all figures of a page run on the same backend, and
 * each later worker probes one backend instead of trying them all.
 */
import type { BackendReport, WasmFiles } from "../components/runtime/backend.js";
import type { JobName, JobParams, JobProgress, JobResult } from "../components/jobs/registry.js";
import type { JobReply, JobRequest } from "../components/jobs/serve-job.js";

/** What a page sees of job N: its progress reports, then its result or one error message. */
export type JobEvent<N extends JobName = JobName> = { progress: JobProgress<N> } | { result: JobResult<N> } | { error: string };

/** A job running in a worker: its events, and the controls the worker understands between two steps. */
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
  return backend ? withQuery(workerUrl, { backend }) : workerUrl;
}

/** `url` with more query parameters, after any it already has. */
function withQuery(url: string, params: Record<string, string>): string {
  return `${url}${url.includes("?") ? "&" : "?"}${new URLSearchParams(params)}`;
}

/**
 * The jobs worker's URL with the WebAssembly binaries' URLs (components/runtime/backend.ts wasmFilesFrom): a page
 * whose jobs are 2-D toy runs offers them, so that its worker runs WASM first (and ?backend=wasm works there).
 */
export function withWasmFiles(workerUrl: string, files: WasmFiles): string {
  return withQuery(workerUrl, files);
}

/** The backend the page's address asks for (`?backend=webgl`), or null to let backend.ts choose. */
const requestedBackend = new URLSearchParams(globalThis.location?.search ?? "").get("backend");

export class JobsWorker {
  private worker: Promise<Worker> | null = null;
  private nextId = 1;
  /** the inbox of every job still running, by id */
  private readonly inboxes = new Map<number, (reply: JobReply) => void>();

  /**
   * @param backend the backend to start the worker on (or a promise of it, e.g. the page's choice); null: the page's `?backend=`
   * @param onLost called when a started worker dies, with the reason: whatever it held is gone
   */
  constructor(
    private readonly url: string,
    private readonly backend: string | null | Promise<string | null> = requestedBackend,
    private readonly onLost: (reason: string) => void = () => {},
  ) {}

  start<N extends JobName>(job: N, params: JobParams<N>): WorkerJob<N> {
    const id = this.nextId++;
    const inbox: JobReply<N>[] = [];
    let wake: (() => void) | null = null;
    // Replies with this id answer job N (serve-job.ts), so its progress and result have N's types.
    this.inboxes.set(id, (reply) => {
      inbox.push(reply as JobReply<N>);
      wake?.();
    });
    const worker = this.running();
    const send = (message: JobRequest) => worker.then((w) => w.postMessage(message), () => {});
    // File and Blob parameters are structured-cloneable: the worker reads them itself.
    send({ type: "start", id, job, params } as JobRequest);
    const inboxes = this.inboxes;
    return {
      events: (async function* () {
        try {
          await worker;
        } catch (error) {
          inboxes.delete(id);
          return yield { error: `this browser cannot start a Web Worker (${(error as Error).message})` };
        }
        try {
          for (;;) {
            if (inbox.length === 0) await new Promise<void>((resolve) => (wake = resolve));
            const reply = inbox.shift()!;
            if (reply.type === "progress") yield { progress: reply.progress };
            else if (reply.type === "done") return yield { result: reply.result };
            else return yield { error: reply.message };
          }
        } finally {
          inboxes.delete(id);
        }
      })(),
      pause: () => send({ type: "pause", id }),
      resume: () => send({ type: "resume", id }),
      stop: () => send({ type: "stop", id }),
      command: (command) => send({ type: "command", id, command }),
    };
  }

  /** Stop the worker now; each running job ends with `reason` as its error. */
  terminate(reason = "the page was closed or reloaded"): void {
    this.worker?.then((w) => w.terminate(), () => {});
    this.worker = null;
    this.failAll(reason);
  }

  /** The worker, started on first use. */
  private running(): Promise<Worker> {
    if (this.worker) return this.worker;
    const started = Promise.resolve(this.backend).then((backend) => {
      const worker = new Worker(workerUrlWithBackend(this.url, backend), { type: "module" });
      worker.onmessage = ({ data: reply }: MessageEvent<JobReply>) => this.inboxes.get(reply.id)?.(reply);
      const lost = (reason: string) => {
        if (this.worker !== started) return;
        worker.terminate();
        this.worker = null;
        this.failAll(reason);
        this.onLost(reason);
      };
      worker.onerror = (event) => {
        event.preventDefault();
        lost(`the worker stopped: ${event.message || "it failed to load or crashed"}`);
      };
      worker.onmessageerror = () => lost("the worker sent a message the page could not read");
      return worker;
    });
    this.worker = started;
    started.catch(() => {
      if (this.worker === started) this.worker = null;
    });
    return started;
  }

  private failAll(message: string): void {
    for (const [id, deliver] of this.inboxes) deliver({ type: "error", id, message });
    this.inboxes.clear();
  }
}

/** What a page can tell a running job (a WorkerJob without its events): for Pause/Stop buttons (live-job.ts). */
export type JobControls = Omit<WorkerJob, "events">;

/** Several jobs under one set of controls: pause, resume, stop and every command go to each of them. */
export function jobGroup(jobs: readonly JobControls[]): JobControls {
  return {
    pause: () => jobs.forEach((job) => job.pause()),
    resume: () => jobs.forEach((job) => job.resume()),
    stop: () => jobs.forEach((job) => job.stop()),
    command: (name) => jobs.forEach((job) => job.command(name)),
  };
}

/**
 * The events of several jobs (e.g. one per worker, side by side) in the order they arrive, each with the index of
 * its job; ends once every job has ended. Every job ends with its result or one error, so a failed job does not
 * hold up the others' events.
 */
export async function* mergeJobEvents<N extends JobName>(jobs: readonly Pick<WorkerJob<N>, "events">[]): AsyncGenerator<{ index: number; event: JobEvent<N> }> {
  const next = (index: number) => jobs[index].events.next().then((step) => ({ index, step }));
  const pending = new Map(jobs.map((_, index) => [index, next(index)]));
  try {
    while (pending.size > 0) {
      const { index, step } = await Promise.race(pending.values());
      if (step.done) {
        pending.delete(index);
        continue;
      }
      pending.set(index, next(index));
      yield { index, event: step.value };
    }
  } finally {
    // Left early: end the jobs still running (startJobInWorker's events terminate their worker when they end).
    for (const index of pending.keys()) void jobs[index].events.return(undefined);
  }
}

/** A job's result, its progress reported to `onProgress`; rejects with the job's error message. */
export async function resultOf<N extends JobName>(job: WorkerJob<N>, onProgress: (progress: JobProgress<N>) => void = () => {}): Promise<JobResult<N>> {
  for await (const event of job.events) {
    if ("progress" in event) onProgress(event.progress);
    else if ("result" in event) return event.result;
    else throw new Error(event.error);
  }
  throw new Error("the job ended without a result");
}

let choice: Promise<BackendReport> | null = null;

/**
 * The page's backend, chosen once by a worker of its own (which then ends): the report that the backend notice
 * shows, and the backend every job's worker is started on.
 */
export function pageBackendReport(workerUrl: string): Promise<BackendReport> {
  choice ??= (async () => {
    const worker = new JobsWorker(workerUrl);
    try {
      return await resultOf(worker.start("backend", {}));
    } finally {
      worker.terminate();
    }
  })();
  return choice;
}

/** Job N in a worker of its own on the page's backend, ended with the job or when `invalidation` resolves. */
export function startJobInWorker<N extends JobName>(workerUrl: string, job: N, params: JobParams<N>, invalidation: Promise<unknown>): WorkerJob<N> {
  // A page whose backend cannot be chosen still runs its jobs on what its address asks for (the job reports why).
  const backend = pageBackendReport(workerUrl).then((report) => report.active as string, () => requestedBackend);
  const worker = new JobsWorker(workerUrl, backend);
  const started = worker.start(job, params);
  invalidation.then(() => worker.terminate("the figure was redrawn"));
  return {
    ...started,
    events: (async function* () {
      try {
        yield* started.events;
      } finally {
        worker.terminate();
      }
    })(),
  };
}

export function runJobInWorker<N extends JobName>(workerUrl: string, job: N, params: JobParams<N>, invalidation: Promise<unknown>): AsyncGenerator<JobEvent<N>> {
  return startJobInWorker(workerUrl, job, params, invalidation).events;
}
