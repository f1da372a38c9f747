import type { Clock } from "../../domain/clock.js";
import { pushConfig } from "../../domain/factor/factors.js";
import type { PushNotifier } from "../../providers/push/notifier.js";
import type { OutboxJob, Store } from "../../store/port.js";
import { publicChallenge } from "../../store/rows.js";
import type { JobAnswer, JobKind } from "../outbox/runner.js";
import { defaultRetry } from "../outbox/retry.js";

export interface PushNoticeJobDeps {
  store: Pick<Store, "getChallenge" | "getFactor">;
  clock: Clock;
  notifier: Pick<PushNotifier, "notify">;
  maxTries?: number;
}

/** A push challenge's notice to its device; nothing to send once the challenge is no longer pending. */
export function pushNoticeJob(deps: PushNoticeJobDeps): JobKind {
  const { store, clock, notifier } = deps;
  return {
    retry: { ...defaultRetry, maxTries: deps.maxTries ?? defaultRetry.maxTries },
    async run(job: OutboxJob): Promise<JobAnswer> {
      const challenge = await store.getChallenge(job.refSid);
      const factor = challenge?.factorSid ? await store.getFactor(challenge.factorSid) : null;
      if (!challenge || !factor || challenge.status !== "PENDING" || challenge.expiresAt <= clock.now()) return { done: true };
      const result = await notifier.notify(pushConfig(factor), publicChallenge(challenge), clock.now());
      if (result.sent) return { done: true };
      return result.retry ? { retry: true, reason: result.reason } : { fail: true, reason: result.reason };
    },
  };
}
