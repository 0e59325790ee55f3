/**
 * The Web Worker that runs sCM Lab's long jobs (worker-jobs.ts) off the page's main thread, so figures stay
 * responsive while TF.js trains. Bundled into src/data/jobs-worker.js by a data loader at build time.
 */
import { selectBackend } from "../components/backend.js";
import { JobControl, serveJob, type JobReply, type JobRequest } from "../components/worker-jobs.js";

const scope = self as unknown as { postMessage(message: unknown): void; onmessage: ((event: MessageEvent<JobRequest>) => void) | null };
const controls = new Map<number, JobControl>();
const backendReady = selectBackend();

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
  await backendReady;
  await serveJob(request, (reply: JobReply) => scope.postMessage(reply), control);
  controls.delete(request.id);
};
