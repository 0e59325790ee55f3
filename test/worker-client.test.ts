/**
 * The page-side helpers for jobs that run side by side (src/ui/worker-client.ts): one set of controls for
 * several jobs, and their events merged in the order they arrive, with a failed job reported without holding up
 * the others. Fake jobs stand in for workers.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { jobGroup, mergeJobEvents, type JobEvent, type WorkerJob } from "../src/ui/worker-client.ts";

type Event = JobEvent<"trainedProfiles">;

/** A clock the test advances: `at(n)` resolves once the clock has reached n. */
function testClock() {
  let now = 0;
  const waiting: { at: number; resolve: () => void }[] = [];
  return {
    at: (time: number) => new Promise<void>((resolve) => (time <= now ? resolve() : waiting.push({ at: time, resolve }))),
    advance() {
      now++;
      for (const w of waiting.filter((w) => w.at <= now)) w.resolve();
    },
  };
}

/** A job whose events come at the given times of `clock` (a generator without events: a job never started). */
function fakeJob(events: [number, Event][], clock = testClock()): WorkerJob<"trainedProfiles"> & { calls: string[] } {
  const calls: string[] = [];
  return {
    calls,
    events: (async function* () {
      for (const [time, event] of events) {
        await clock.at(time);
        yield event;
      }
    })(),
    pause: () => calls.push("pause"),
    resume: () => calls.push("resume"),
    stop: () => calls.push("stop"),
    command: (name) => calls.push(name),
  };
}

const progress = (step: number): Event => ({ progress: { cNoise: "identity", step, steps: 40, loss: 1, milestone: true } });
const settle = () => new Promise((resolve) => setTimeout(resolve, 0));

test("mergeJobEvents: every job's events as they arrive, with its index; ends when all have ended, a failure included", async () => {
  const clock = testClock();
  const jobs = [
    fakeJob([[2, progress(20)], [5, progress(40)], [6, { result: [{ cNoise: "identity", t: 1, value: 2 }] }]], clock),
    fakeJob([[4, { error: "the worker stopped" }]], clock),
    fakeJob([[1, progress(20)], [3, { result: [] }]], clock),
  ];
  const seen: string[] = [];
  const merged = mergeJobEvents(jobs);
  let next = merged.next();
  let ended = false;
  for (let time = 1; time <= 7 && !ended; time++) {
    clock.advance();
    // Collect whatever has arrived by this time.
    for (;;) {
      const step = await Promise.race([next, settle().then(() => null)]);
      if (step === null) break;
      if (step.done) {
        seen.push(`${time}: end`);
        ended = true;
        break;
      }
      const { index, event } = step.value;
      seen.push(`${time}: ${index} ${"progress" in event ? event.progress.step : "error" in event ? event.error : `rows ${event.result.length}`}`);
      next = merged.next();
    }
  }
  assert.deepEqual(seen, ["1: 2 20", "2: 0 20", "3: 2 rows 0", "4: 1 the worker stopped", "5: 0 40", "6: 0 rows 1", "6: end"]);
});

test("mergeJobEvents: leaving early ends the jobs still running", async () => {
  const clock = testClock();
  const jobs = [fakeJob([[1, progress(20)], [2, progress(40)]], clock), fakeJob([[3, progress(20)]], clock)];
  clock.advance();
  for await (const { index } of mergeJobEvents(jobs)) {
    assert.equal(index, 0);
    break;
  }
  // A generator's return() waits for its pending next(): the fake jobs end once their events are due.
  clock.advance();
  clock.advance();
  for (const job of jobs) assert.deepEqual(await job.events.next(), { value: undefined, done: true });
});

test("jobGroup: pause, resume, stop and commands go to every job", () => {
  const jobs = [fakeJob([]), fakeJob([]), fakeJob([])];
  const group = jobGroup(jobs);
  group.pause();
  group.resume();
  group.command("save");
  group.stop();
  for (const job of jobs) assert.deepEqual(job.calls, ["pause", "resume", "save", "stop"]);
});
