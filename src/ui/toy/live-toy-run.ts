/**
 * A toy training run live in a Web Worker, as a Framework cell wants it: an async generator of states
 * (the same shape as a precomputed run, plus a status line) and pause / stop buttons. The worker is
 * terminated when the cell is invalidated, so changing an input or leaving the page stops the run.
 */
import type { ToyRunParams } from "../../components/jobs/toy-jobs.js";
import { startJobInWorker } from "../worker-client.js";
import { liveJobStates, pauseStopButtons, type LiveJobState } from "../live-job.js";
import type { RunSeries } from "./toy-run-charts.js";

export interface LiveRunState extends RunSeries, LiveJobState {}

/**
 * A run's status line, carrying its measurements so far as data attributes (`data-run`, `data-measurements`: a
 * JSON list with each measurement's iteration, 1-/2-step quality and consistency errors): the numbers a reader
 * sees, readable by browser tests that compare them with the same run in Node. All of them, not the latest, so a
 * test that looks late still finds the one it compares.
 */
export function runStatus(key: string, state: LiveRunState): HTMLElement {
  const span = document.createElement("span");
  span.className = state.failed ? "run-status failed" : "muted run-status";
  span.dataset.run = key;
  if (state.evaluations.length > 0) {
    span.dataset.measurements = JSON.stringify(state.evaluations.map((e) => ({ iteration: e.iteration, oneStep: e.oneStep, twoStep: e.twoStep, consistencyError: e.consistencyError ?? null })));
  }
  span.textContent = state.status;
  return span;
}

export function liveToyRun(workerUrl: string, label: string, params: ToyRunParams, invalidation: Promise<unknown>): { states: AsyncGenerator<LiveRunState>; controls: HTMLElement } {
  const job = startJobInWorker(workerUrl, "toyRun", params, invalidation);
  const controls = document.createElement("span");
  const { pause, stop } = pauseStopButtons(job, controls);
  const finish = () => (pause.disabled = stop.disabled = true);

  const state: LiveRunState = { label, loss: [], gradientNorm: [], evaluations: [], status: "starting the worker…", running: true, failed: false };
  const states = liveJobStates(job, state, {
    progress(p) {
      if (p.phase === "teacher") {
        state.status = `training its teacher first: step ${p.iteration}/${p.steps}`;
        return;
      }
      state.loss[p.iteration - 1] = p.loss;
      state.gradientNorm[p.iteration - 1] = p.gradientNorm;
      if (p.evaluation) state.evaluations.push(p.evaluation);
      const last = state.evaluations.at(-1);
      const error = last?.consistencyError ? ` · ‖f − f*‖ ${last.consistencyError.map((e) => e.error.toFixed(3)).join(" / ")}` : "";
      state.status = `step ${p.iteration}/${p.steps} · loss ${p.loss.toPrecision(3)}${last ? ` · 2-step sliced W₂ ${last.twoStep.toFixed(4)} at step ${last.iteration}${error}` : ""}`;
    },
    result: (result) => (result.iterations < params.steps ? `stopped after ${result.iterations} steps` : `done: ${result.iterations} steps`),
    finish,
    // Steps that the worker's throttle skipped stay holes; charts read only finite values.
    snapshot: (s) => ({ ...s, loss: Array.from(s.loss, (v) => v ?? NaN), gradientNorm: Array.from(s.gradientNorm, (v) => v ?? NaN) }),
  });
  return { states, controls };
}

/**
 * A live run once the reader asked for one (`params`), or a single idle state saying how to start it: the
 * pages' run lines and figures then read the same generator either way.
 */
export function liveToyRunOrIdle(workerUrl: string, label: string, params: ToyRunParams | null, idleStatus: string, invalidation: Promise<unknown>): { states: AsyncGenerator<LiveRunState> | Generator<LiveRunState>; controls: HTMLElement | null } {
  if (params) return liveToyRun(workerUrl, label, params, invalidation);
  const idle: LiveRunState = { label, loss: [], gradientNorm: [], evaluations: [], status: idleStatus, running: false, failed: false };
  return { states: (function* () { yield idle; })(), controls: null };
}

/** "<strong>A</strong> [Pause] [Stop] status": one run's line above the live figures. */
export function runLine(title: string, key: string, controls: HTMLElement | null, state: LiveRunState): HTMLElement {
  const line = document.createElement("p");
  line.className = "run-line";
  const strong = document.createElement("strong");
  strong.textContent = title;
  line.append(strong, " ", ...(controls ? [controls, " "] : []), runStatus(key, state));
  return line;
}
