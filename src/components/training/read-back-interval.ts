/**
 * How many training steps a live run queues before reading their metrics back (Trainer.enqueueStep). Each read
 * makes the GPU finish the queued work while the page waits, and then the GPU waits while the page queues the next
 * step: reading every k steps lets the two overlap. The page still wants a report a few times a second, so k is
 * as many steps as fit in READ_BACK_TARGET_MS at the measured pace, between 1 and MAX_QUEUED_STEPS: a step that
 * takes longer than the target (any CPU backend, a big batch) is read at once, as before.
 */

/** Reports arrive about this often when steps are fast. */
export const READ_BACK_TARGET_MS = 250;

/** At most this many unchecked steps: the NaN guard acts at most this late, and a failure loses at most these. */
export const MAX_QUEUED_STEPS = 8;

/** Steps to queue before the next read, given the measured milliseconds per step (1 until there is a measurement). */
export function stepsPerReadBack(msPerStep: number | null, targetMs = READ_BACK_TARGET_MS, most = MAX_QUEUED_STEPS): number {
  if (msPerStep === null || !(msPerStep > 0) || !Number.isFinite(msPerStep)) return 1;
  return Math.max(1, Math.min(most, Math.floor(targetMs / msPerStep)));
}
