import type { AppliedTemplate, DeliveryOptions } from "../types.js";
import type { AttemptChannel, DeliveryStatus, Service, VerificationStatus, VerifyEvent, Webhook, WebhookDelivery } from "../types.js";

/** The courier's port: outbox jobs (claim, lease, retry), deliveries and their receipts, webhook tries. Every write returns its events (the store publishes them after commit). */
export interface OutboxStore {
  claimJobs(now: number, leaseMs: number, limit: number): Promise<OutboxJob[]>;
  deliveryContext(attemptSid: string): Promise<DeliveryContext | null>;
  recordDelivery(result: DeliveryResult): Promise<VerifyEvent | null>;
  /** A provider's later word on a sent message; applies only while the attempt is QUEUED or SENT. */
  recordReceipt(receipt: DeliveryReceipt): Promise<VerifyEvent | null>;
  retryJob(jobId: number, runAt: number, error: string): Promise<void>;
  /** Keeps the lease of jobs still in flight, so only a dead worker's jobs are taken over. */
  extendLeases(jobIds: number[], until: number): Promise<void>;
  /** Drops a job that must not run; no event. */
  dropJob(jobId: number): Promise<void>;
  /**
   * Settles, as `abandonedSend` says, up to `limit` QUEUED attempts of final verifications whose job is
   * gone (a crash mid-send); one delivery event each.
   */
  settleAbandonedAttempts(now: number, limit: number): Promise<VerifyEvent[]>;
  pendingJobCount(): Promise<number>;
  /** What the dispatcher needs to send one webhook delivery; null when the delivery is gone. */
  webhookJob(deliveryId: number): Promise<WebhookJob | null>;
  /** Records one try; DELIVERED, FAILED and CANCELED end the job, RETRY reschedules it at `runAt`. */
  recordWebhookAttempt(result: WebhookAttemptResult): Promise<void>;
}

export interface WebhookJob {
  delivery: WebhookDelivery;
  /** Null once the webhook was deleted. */
  webhook: (Webhook & { secretSealed: string }) | null;
  event: VerifyEvent;
}

export interface WebhookAttemptResult {
  jobId: number;
  deliveryId: number;
  outcome: "DELIVERED" | "RETRY" | "FAILED" | "CANCELED";
  statusCode: number | null;
  error: string | null;
  runAt: number;
  now: number;
}

export interface OutboxJob {
  id: number;
  kind: "delivery" | "sna_fallback" | "webhook" | "push_notify" | "challenge_fallback";
  refSid: string;
  tries: number;
}

export interface DeliveryContext {
  verificationSid: string;
  serviceSid: string;
  status: VerificationStatus;
  to: string;
  channel: AttemptChannel;
  codeSealed: string | null;
  amount: string | null;
  payee: string | null;
  locale: string | null;
  customFriendlyName: string | null;
  /** A service test number: it goes to the dev outbox, never to a provider. */
  testMode: boolean;
  /** When the attempt was queued (delivery latency). */
  queuedAt: number;
  service: Service;
  /** The service template the message is worded with; null: the built-in texts. */
  template: AppliedTemplate | null;
  /** This start's digits to dial or email sender (a resend's replace the first start's). */
  options: DeliveryOptions;
}

export interface DeliveryReceipt {
  providerMessageId: string;
  status: "DELIVERED" | "UNDELIVERED";
  errorCode: string | null;
  now: number;
}

export interface DeliveryResult {
  jobId: number;
  attemptSid: string;
  /** The transport that carried it (RCS, or SMS after an RCS failure…); unchanged when absent. */
  channel?: AttemptChannel;
  status: DeliveryStatus;
  providerMessageId: string | null;
  errorCode: string | null;
  now: number;
}
