/**
 * One jobs worker (src/workers/jobs-worker.ts) kept alive across jobs, for the pretrained-models page: the
 * loaded model lives in the worker between "load" and every "sample", which worker-client.ts (one worker per
 * job, terminated at its end) cannot offer. The worker starts on the first job, not with the page.
 * If the worker dies (a crash, or the browser killing it), every pending job fails with one message and the
 * next job starts a fresh worker, without the model.
 */
import { workerUrlWithBackend } from "../worker-client.js";
import type { JobName, JobParams, JobProgress, JobResult } from "../../components/jobs/registry.js";
import type { JobReply } from "../../components/jobs/serve-job.js";

interface Pending {
  onProgress: (progress: unknown) => void;
  resolve: (result: unknown) => void;
  reject: (error: Error) => void;
}

export interface RunningJob<R> {
  result: Promise<R>;
  /** ask the job to stop between two of its steps */
  stop(): void;
}

export class ResidentWorker {
  private worker: Worker | null = null;
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();

  /** @param onLost called when a started worker dies, with the reason: whatever it held is gone */
  constructor(
    private readonly url: string,
    private readonly onLost: (reason: string) => void = () => {},
  ) {}

  run<N extends JobName>(job: N, params: JobParams<N>, onProgress: (progress: JobProgress<N>) => void = () => {}): RunningJob<JobResult<N>> {
    const id = this.nextId++;
    let worker: Worker;
    try {
      worker = this.start();
    } catch (error) {
      return { result: Promise.reject(new Error(`this browser cannot start a Web Worker (${(error as Error).message})`)), stop: () => {} };
    }
    // Replies with this id answer job N (serve-job.ts), so its progress and result have N's types.
    const result = new Promise<JobResult<N>>((resolve, reject) => {
      this.pending.set(id, { onProgress: onProgress as (p: unknown) => void, resolve: resolve as (r: unknown) => void, reject });
    });
    // File and Blob parameters are structured-cloneable: the worker reads them from disk itself.
    worker.postMessage({ type: "start", id, job, params });
    return { result, stop: () => this.worker?.postMessage({ type: "stop", id }) };
  }

  terminate(): void {
    this.worker?.terminate();
    this.worker = null;
    this.failAll("the page was closed or reloaded");
  }

  private start(): Worker {
    if (this.worker) return this.worker;
    // The page's ?backend= reaches this long-lived worker too (backend.ts reads it from the worker's URL).
    const worker = new Worker(workerUrlWithBackend(this.url, new URLSearchParams(globalThis.location?.search ?? "").get("backend")), { type: "module" });
    worker.onmessage = ({ data: reply }: MessageEvent<JobReply>) => {
      const job = this.pending.get(reply.id);
      if (!job) return;
      if (reply.type === "progress") return job.onProgress(reply.progress);
      this.pending.delete(reply.id);
      if (reply.type === "done") job.resolve(reply.result);
      else job.reject(new Error(reply.message));
    };
    const lost = (reason: string) => {
      if (this.worker !== worker) return;
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
    this.worker = worker;
    return worker;
  }

  private failAll(reason: string): void {
    for (const job of this.pending.values()) job.reject(new Error(reason));
    this.pending.clear();
  }
}
