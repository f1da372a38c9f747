import type { Logger } from "pino";
import type { CallScript } from "../../channels/call/script.js";
import { messageInput, openSecret } from "../../channels/compose.js";
import { channels, type RoutingOptions, route } from "../../channels/registry.js";
import type { Clock } from "../../domain/clock.js";
import type { Keyring } from "../../domain/crypto.js";
import { abandonedSend } from "../../domain/verification/abandoned.js";
import type { AttemptChannel, DeliveryChannel } from "../../domain/types.js";
import type { Provider, SendReceipt } from "../../providers/provider.js";
import type { ProviderRegistry } from "../../providers/registry.js";
import type { OutboxJob, Store } from "../../store/port.js";
import type { JobAnswer, JobKind, Trouble } from "../outbox/runner.js";
import { defaultRetry } from "../outbox/retry.js";

export interface DeliveryJobDeps {
  store: Pick<Store, "deliveryContext" | "recordDelivery" | "dropJob" | "settleAbandonedAttempts">;
  clock: Clock;
  keys: Keyring;
  providers: ProviderRegistry;
  routing: RoutingOptions;
  callScript: CallScript;
  logger: Logger;
  /** Where test numbers' messages go instead of a provider: the dev outbox. */
  testProvider: Provider;
  maxTries?: number;
  sendTimeoutMs?: number;
  /** A provider accepted a message: how long after it was queued (metrics). */
  onDelivered?: (channel: AttemptChannel, latencyMs: number) => void;
}

/**
 * One send attempt of a verification: words the message, hands it to the transports of its route (RCS
 * then SMS…) and records the result as an event. Failures retry; past its tries the attempt is FAILED.
 * The attempt sid is the idempotency key every provider receives.
 */
export function deliveryJob(deps: DeliveryJobDeps): JobKind {
  const { store, clock, keys, logger } = deps;
  const sendTimeoutMs = deps.sendTimeoutMs ?? 10_000;
  const onDelivered = deps.onDelivered ?? (() => {});

  async function run(job: OutboxJob): Promise<JobAnswer> {
    const context = await store.deliveryContext(job.refSid);
    if (context && context.status !== "PENDING") {
      // The verification ended before this send was recorded (a crash mid-send, then an approval or an
      // expiry): settle the attempt rather than leave it QUEUED forever.
      const settled = abandonedSend(context.status);
      await store.recordDelivery({ jobId: job.id, attemptSid: job.refSid, status: settled.status, providerMessageId: null, errorCode: settled.errorCode, now: clock.now() });
      return { done: true };
    }
    const secret = context ? openSecret(keys, context) : null;
    if (!context || !secret) {
      await store.dropJob(job.id);
      return { done: true };
    }
    const input = messageInput(context, secret);
    // A test number never reaches a provider: its message goes to the dev outbox on its own channel.
    const transports = context.testMode ? [context.channel] : await route(context.channel as DeliveryChannel, context.to, deps.routing);
    const failures: string[] = [];
    for (const channel of transports) {
      const provider = context.testMode ? deps.testProvider : deps.providers[channel];
      const renderer = channels[channel];
      if (!provider || !renderer) continue;
      let receipt: SendReceipt;
      try {
        receipt = await withTimeout(
          provider.send({
            ...renderer.render(input),
            code: secret.code,
            attemptSid: job.refSid,
            verificationSid: context.verificationSid,
            ...(channel === "CALL" ? { voice: deps.callScript.urls(job.refSid) } : {}),
          }),
          sendTimeoutMs,
        );
      } catch (error) {
        failures.push(`${channel} via ${provider.name}: ${error instanceof Error ? error.message : String(error)}`);
        // A provider that timed out may still send: trying the next transport now could deliver twice.
        // The retry goes to the same provider with the same attempt sid (its idempotency key).
        if (error instanceof SendTimeout) break;
        continue;
      }
      // Recorded outside the send's try: a store failure here must not look like a failed send.
      await store.recordDelivery({ jobId: job.id, attemptSid: job.refSid, channel, status: receipt.status, providerMessageId: receipt.providerMessageId, errorCode: null, now: clock.now() });
      onDelivered(channel, clock.now() - context.queuedAt);
      return { done: true };
    }
    const reason = failures.join("; ").slice(0, 300) || "no transport for this channel";
    logger.warn({ attemptSid: job.refSid, tries: job.tries, reason }, "delivery failed");
    return { retry: true, reason };
  }

  /** Past its tries the attempt is FAILED and subscribers hear it. */
  async function fail(job: OutboxJob, { reason }: Trouble): Promise<void> {
    await store.recordDelivery({ jobId: job.id, attemptSid: job.refSid, status: "FAILED", providerMessageId: null, errorCode: reason.slice(0, 300), now: clock.now() });
  }

  /** Attempts whose job a crash (or an older gateway) lost while their verification ended: settled, with their events. */
  async function recover(): Promise<void> {
    try {
      for (;;) {
        const events = await store.settleAbandonedAttempts(clock.now(), 500);
        if (events.length > 0) logger.info({ attempts: events.length }, "settled send attempts abandoned by a crash");
        if (events.length < 500) return;
      }
    } catch (error) {
      logger.error({ err: error }, "settling abandoned sends failed");
    }
  }

  return { retry: { ...defaultRetry, maxTries: deps.maxTries ?? defaultRetry.maxTries }, recordsItsEnd: true, run, fail, recover };
}

class SendTimeout extends Error {}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new SendTimeout(`timed out after ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
