import type { Clock } from "../../domain/clock.js";
import { newSid } from "../../domain/ids.js";
import type { OutboxJob, Store } from "../../store/port.js";
import type { JobAnswer, JobKind } from "../outbox/runner.js";
import { defaultRetry } from "../outbox/retry.js";

export interface SnaFallbackJobDeps {
  store: Pick<Store, "snaTimedOut">;
  clock: Clock;
  maxTries?: number;
}

/** AUTO: the silent network check was not completed in time; the verification falls back to SMS if still waiting. */
export function snaFallbackJob(deps: SnaFallbackJobDeps): JobKind {
  const { store, clock } = deps;
  return {
    retry: { ...defaultRetry, maxTries: deps.maxTries ?? defaultRetry.maxTries },
    // snaTimedOut removes the job with the verification's change.
    recordsItsEnd: true,
    async run(job: OutboxJob): Promise<JobAnswer> {
      await store.snaTimedOut(job.id, job.refSid, newSid("VL"), clock.now());
      return { done: true };
    },
  };
}
