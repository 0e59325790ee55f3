/**
 * The Web Worker that runs sCM Lab's long jobs (components/jobs/registry.ts) off the page's main thread, so figures stay
 * responsive while TF.js trains. Bundled into src/data/jobs-worker.js by a data loader at build time.
 * Its backend follows the page's `?backend=` (worker-client.ts passes it on in the worker's URL).
 */
import { backendSelection } from "../components/runtime/backend.js";
import { JobControl } from "../components/jobs/job-control.js";
import { serveJob, type JobReply, type JobRequest } from "../components/jobs/serve-job.js";
import { describeError } from "../components/checkpoint/errors.js";

const scope = self as unknown as { postMessage(message: unknown): void; onmessage: ((event: MessageEvent<JobRequest>) => void) | null };
const controls = new Map<number, JobControl>();
const backendReady = backendSelection();

scope.onmessage = async ({ data: request }) => {
  if (request.type === "command") {
    controls.get(request.id)?.command(request.command);
    return;
  }
  if (request.type !== "start") {
    controls.get(request.id)?.[request.type]();
    return;
  }
  const control = new JobControl();
  controls.set(request.id, control);
  try {
    await backendReady;
  } catch (error) {
    scope.postMessage({ type: "error", id: request.id, message: `no TF.js backend works in this worker: ${describeError(error)}` } satisfies JobReply);
    return;
  }
  await serveJob(request, (reply: JobReply) => scope.postMessage(reply), control);
  controls.delete(request.id);
};
