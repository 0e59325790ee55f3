/**
 * Every job the jobs worker runs, by name: long computations that pages hand to a Web Worker, written as async
 * generators (each yields progress and returns its result). The same functions run in Node tests and on the
 * main thread; `src/workers/` only adds message passing (serve-job.ts).
 */
import { finiteDifferenceJob, halfPrecisionJob, profilesJob, trainedProfilesJob } from "./jvp-jobs.js";
import { toyRunJob, tangentGapJob } from "./toy-jobs.js";
import { pretrainedInspectJob, pretrainedLoadJob, pretrainedSampleJob } from "./pretrained-jobs.js";
import { imageTrainJob } from "./image-jobs.js";
import { backendSelection, type BackendReport } from "../runtime/backend.js";
import { speedCheckJob } from "../runtime/speed-check.js";

/** The worker's backend choice, for the page's notice: the worker, not the page, runs the math. */
// eslint-disable-next-line require-yield
export async function* backendJob(): AsyncGenerator<never, BackendReport> {
  return backendSelection();
}

export const JOBS = {
  backend: backendJob,
  speedCheck: speedCheckJob,
  trainedProfiles: trainedProfilesJob, toyRun: toyRunJob, tangentGap: tangentGapJob,
  // The JVP page: each figure's computation.
  jvpProfiles: profilesJob, jvpHalfPrecision: halfPrecisionJob, jvpFiniteDifference: finiteDifferenceJob,
  // The pretrained-models page: one long-lived worker keeps the loaded model between these jobs.
  pretrainedInspect: pretrainedInspectJob, pretrainedLoad: pretrainedLoadJob, pretrainedSample: pretrainedSampleJob,
  // The CIFAR-10 page: stream the data, train, sample, autosave.
  imageTrain: imageTrainJob,
} as const;
export type JobName = keyof typeof JOBS;

/** What each job takes, yields as progress and returns, read from its generator's type: one declaration per job. */
type JobFunction<N extends JobName> = (typeof JOBS)[N];
export type JobParams<N extends JobName> = Parameters<JobFunction<N>> extends [] ? Record<string, never> : Parameters<JobFunction<N>>[0];
export type JobProgress<N extends JobName> = JobFunction<N> extends (...args: never[]) => AsyncGenerator<infer P, unknown> ? P : never;
export type JobResult<N extends JobName> = JobFunction<N> extends (...args: never[]) => AsyncGenerator<unknown, infer R> ? R : never;
