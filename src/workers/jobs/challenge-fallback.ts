import { VerifyError } from "../../domain/errors.js";
import type { FactorFlow } from "../../domain/factor/factors.js";
import type { OutboxJob } from "../../store/port.js";
import type { JobAnswer, JobKind } from "../outbox/runner.js";
import { defaultRetry } from "../outbox/retry.js";

export interface ChallengeFallbackJobDeps {
  factors: Pick<FactorFlow, "runFallback">;
  maxTries?: number;
}

/** A silent challenge not answered in time: its fallback verification starts. */
export function challengeFallbackJob(deps: ChallengeFallbackJobDeps): JobKind {
  return {
    retry: { ...defaultRetry, maxTries: deps.maxTries ?? defaultRetry.maxTries },
    async run(job: OutboxJob): Promise<JobAnswer> {
      try {
        await deps.factors.runFallback(job.refSid);
        return { done: true };
      } catch (error) {
        // A refusal (send cap, disabled channel…) will not change by retrying; anything else may,
        // a store that was unavailable included.
        const reason = error instanceof Error ? error.message : String(error);
        const refused = error instanceof VerifyError && error.code !== "SERVICE_UNAVAILABLE";
        return refused ? { fail: true, reason } : { retry: true, reason };
      }
    },
  };
}
