import type {
  Challenge,
  ChallengeFallback,
  ChallengeStatus,
  FactorType,
  Entity,
  Factor,
  PasskeyCredential,
  ApiKey,
  AttemptChannel,
  ChannelName,
  DeliveryStatus,
  Lookup,
  OutboxMessage,
  Page,
  Service,
  ServiceSettings,
  Verification,
  VerificationStatus,
  VerifyEvent,
  FraudBlock,
  Webhook,
  WebhookDelivery,
  WebhookDeliveryStatus,
  VerificationAttempt,
  VerificationStats,
} from "../domain/types.js";
import type { EventSink, EventType } from "../domain/events.js";
import type { RateLimiterAbstract } from "rate-limiter-flexible";
import type { PrefixCounts } from "../domain/policy/fraud.js";

/**
 * The one persistence port. Every method that changes state writes its domain events in the same
 * transaction and returns them, so the caller publishes after commit. Adapters: sqlite/ (embedded).
 */
export interface Store {
  close(): Promise<void>;
  /** Where the events of every committed write go: the store publishes them after commit, once. */
  publishTo(sink: EventSink): void;
  /** Resolves when the store answers a trivial query: /health and /ready ask it. */
  ping(): Promise<void>;

  getSetting(key: string): Promise<string | null>;
  /** Sets the value only if the key is absent; answers the value that is stored afterwards. */
  initSetting(key: string, value: string): Promise<string>;

  createService(service: Service): Promise<VerifyEvent>;
  updateService(sid: string, patch: Partial<ServiceSettings>, now: number): Promise<{ service: Service; event: VerifyEvent } | null>;
  getService(sid: string): Promise<Service | null>;
  listServices(page: PageRequest): Promise<Page<Service>>;
  countServices(): Promise<number>;

  createApiKey(key: ApiKey, keyHash: string): Promise<VerifyEvent>;
  findApiKeyByHash(keyHash: string): Promise<ApiKey | null>;
  revokeApiKey(sid: string, serviceSid: string | null, now: number): Promise<{ apiKey: ApiKey; event: VerifyEvent | null } | null>;
  listApiKeys(serviceSid: string): Promise<ApiKey[]>;

  startVerification(plan: StartPlan): Promise<StartOutcome>;
  checkVerification(request: CheckRequest, judge: CheckJudge): Promise<CheckOutcome>;
  setVerificationStatus(request: StatusChange): Promise<StatusOutcome>;
  expireDue(now: number, limit: number): Promise<VerifyEvent[]>;
  getVerification(sid: string): Promise<Verification | null>;
  listVerifications(serviceSid: string, filter: VerificationFilter, page: PageRequest): Promise<Page<Verification>>;

  /** Marks an SNA URL opened, once: null for an unknown token, "gone" for a used or expired one. */
  openSnaSession(tokenHash: string, now: number): Promise<SnaSession | "gone" | null>;
  recordSnaResult(result: SnaResult): Promise<VerifyEvent[]>;
  /** AUTO: the SNA attempt was not completed in time; falls back to SMS if still waiting. */
  snaTimedOut(jobId: number, verificationSid: string, fallbackAttemptSid: string, now: number): Promise<VerifyEvent[]>;

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

  /** The entity of an identity, created on first use (the given one is inserted only if none exists). */
  ensureEntity(entity: Entity, now: number): Promise<Entity>;
  createFactor(factor: NewFactor): Promise<VerifyEvent>;
  getFactor(sid: string): Promise<FactorRecord | null>;
  /** Verified passkeys of an identity (for excludeCredentials / allowCredentials). */
  listPasskeys(serviceSid: string, identity: string): Promise<FactorRecord[]>;
  findPasskey(serviceSid: string, credentialId: string): Promise<FactorRecord | null>;
  /** The identity's newest verified factor of a type (a challenge's default factor). */
  newestVerifiedFactor(serviceSid: string, identity: string, factorType: FactorType): Promise<FactorRecord | null>;
  /** Expires PENDING challenges past their expiry (conditional, so instances may race); one event each. */
  expireChallenges(now: number, limit: number): Promise<VerifyEvent[]>;
  /**
   * Claims one verification attempt before it is judged (DESIGN.md principle 8): one conditional write
   * that counts it as failed while the factor has `claim.status` and fewer than `claim.cap` failures.
   * Refused: the factor as it is (null when unknown).
   */
  claimFactorVerification(claim: AttemptClaim): Promise<{ claimed: true; factor: FactorRecord } | { claimed: false; factor: FactorRecord | null }>;
  /**
   * Settles a claimed verification that succeeded: gives the claimed attempt back and turns UNVERIFIED
   * into VERIFIED, once, with a passkey's credential or the TOTP step that proved it (its replay floor).
   * Null when another answer verified it first.
   */
  verifyFactor(sid: string, proof: { credential?: PasskeyCredential; counter?: number }, now: number): Promise<{ factor: Factor; event: VerifyEvent } | null>;
  /** Settles a claimed verification that failed (it stays counted): writes the failure's event (null: the factor is gone). */
  failFactor(failure: FactorFailure): Promise<VerifyEvent | null>;
  deleteFactor(sid: string, now: number): Promise<{ factor: Factor; event: VerifyEvent } | null>;
  /** Inserts the challenge with its outbox jobs (push notification, silent fallback) in one transaction. */
  createChallenge(challenge: Challenge, extra: { webauthnChallenge?: string | null; fallback?: ChallengeFallback | null; jobs?: { kind: OutboxJob["kind"]; runAt: number }[] }): Promise<VerifyEvent>;
  getChallenge(sid: string): Promise<ChallengeRecord | null>;
  /** A factor's challenges, newest first. */
  listChallenges(factorSid: string, status: ChallengeStatus | null, page: PageRequest): Promise<Page<ChallengeRecord>>;
  /** Records the fallback verification of a PENDING challenge, once (a new version subscribers see). */
  linkChallengeFallback(sid: string, verificationSid: string, now: number): Promise<{ challenge: Challenge; event: VerifyEvent } | null>;
  findChallengeByFallback(verificationSid: string): Promise<ChallengeRecord | null>;
  /**
   * Settles a PENDING, unexpired challenge once; with `counter`, the passkey's signature counter moves
   * forward in the same transaction only if it still holds the value the assertion was checked against.
   */
  respondChallenge(response: ChallengeResponse): Promise<{ ok: true; challenge: Challenge; events: VerifyEvent[] } | { ok: false; reason: "RESPONDED" | "EXPIRED" | "CLONED" | "REPLAY" }>;
  /**
   * Claims one answer of a challenge before it is judged (DESIGN.md principle 8): one conditional write
   * that counts it as failed while the challenge has `claim.status`, is unexpired at `claim.now` and has
   * fewer than `claim.cap` failures. Refused: the challenge as it is (null when unknown).
   */
  claimChallengeAnswer(claim: AttemptClaim): Promise<{ claimed: true; challenge: ChallengeRecord } | { claimed: false; challenge: ChallengeRecord | null }>;
  /** Settles a claimed answer that failed (it stays counted): its event, and with `settle` the final status, once (none: the challenge is gone). */
  failChallenge(failure: ChallengeFailure): Promise<VerifyEvent[]>;

  /** A rate-limiter-flexible limiter on this store's `rate_limits` table (used when Redis is not configured). */
  rateLimiter(options: { points: number; duration: number; keyPrefix: string }): RateLimiterAbstract;

  /** Fraud Guard: the prefix's blocks still in force or ended after `since`, newest end first. */
  fraudBlocks(serviceSid: string, prefix: string, since: number): Promise<FraudBlock[]>;
  /** Fraud Guard: the prefix's traffic (test-mode verifications excluded). */
  prefixTraffic(query: PrefixTrafficQuery): Promise<PrefixCounts>;
  /** Writes a block and its event, unless one is already active for the prefix (then answers that one, no event). */
  recordFraudBlock(block: FraudBlock, data: Record<string, unknown>): Promise<{ block: FraudBlock; event: VerifyEvent | null }>;
  /** Ends a block now (a false positive); null when unknown or out of scope. */
  liftFraudBlock(sid: string, serviceSid: string | null, now: number): Promise<{ block: FraudBlock; event: VerifyEvent | null } | null>;
  listFraudBlocks(serviceSid: string, activeAt: number | null, page: PageRequest): Promise<Page<FraudBlock>>;

  createWebhook(webhook: Webhook, secretSealed: string): Promise<VerifyEvent>;
  updateWebhook(sid: string, serviceSid: string | null, patch: WebhookPatch, now: number): Promise<{ webhook: Webhook; event: VerifyEvent } | null>;
  /** Deletes a webhook; its pending deliveries are canceled. */
  deleteWebhook(sid: string, serviceSid: string | null, now: number): Promise<{ webhook: Webhook; event: VerifyEvent } | null>;
  getWebhook(sid: string): Promise<Webhook | null>;
  listWebhooks(serviceSid: string): Promise<Webhook[]>;
  /** What the dispatcher needs to send one webhook delivery; null when the delivery is gone. */
  webhookJob(deliveryId: number): Promise<WebhookJob | null>;
  /** Records one try; DELIVERED, FAILED and CANCELED end the job, RETRY reschedules it at `runAt`. */
  recordWebhookAttempt(result: WebhookAttemptResult): Promise<void>;
  listWebhookDeliveries(webhookSid: string, status: WebhookDeliveryStatus | null, page: PageRequest): Promise<Page<WebhookDelivery>>;

  /** The attempts log: send attempts, newest first. */
  listVerificationAttempts(serviceSid: string, filter: AttemptFilter, page: PageRequest): Promise<Page<VerificationAttempt>>;
  /** Conversion over verifications started in [from, to) (test-mode ones excluded), and their delivery results. */
  verificationStats(serviceSid: string, filter: StatsFilter): Promise<VerificationStats>;

  addDevMessage(message: OutboxMessage): Promise<void>;
  listDevMessages(to: string | null, limit: number): Promise<OutboxMessage[]>;
  listEvents(resourceSid: string): Promise<VerifyEvent[]>;
}

export interface FactorRecord extends Factor {
  credential: PasskeyCredential | null;
  /** PUSH: the device's public key (base64 DER SPKI). */
  publicKey: string | null;
  /** PASSKEY: the signature counter; TOTP: the last time step accepted (the replay floor). */
  counter: number;
  config: Record<string, unknown> | null;
  secretSealed: string | null;
  pendingChallenge: string | null;
  failedAttempts: number;
  userHandle: string;
}

export interface NewFactor extends Factor {
  pendingChallenge: string | null;
  publicKey: string | null;
  config: Record<string, unknown> | null;
  secretSealed: string | null;
  metadata: Record<string, unknown> | null;
}

export interface ChallengeRecord extends Challenge {
  webauthnChallenge: string | null;
  fallback: ChallengeFallback | null;
  failedAttempts: number;
}

export interface ChallengeResponse {
  sid: string;
  status: "APPROVED" | "DENIED";
  factorSid: string;
  identity: string;
  counter: { from: number; to: number } | null;
  /** TOTP: the code's time step; refused (REPLAY) unless it is past the factor's last accepted step. */
  totpStep?: number;
  /** The answer holds a claimed attempt: unless refused as CLONED or REPLAY, it is given back (a right answer is no failure). */
  releaseClaim?: boolean;
  now: number;
}

/** The domain's rule for one claim: which status may be answered, and how many failures it allows. */
export interface AttemptClaim {
  sid: string;
  status: "PENDING" | "UNVERIFIED";
  cap: number;
  now: number;
}

export interface ChallengeFailure {
  sid: string;
  /** The event written (domain/factor/machine.ts `answerFailed`); its data is the challenge with `failedAttempts`. */
  type: EventType;
  /** The count the failed answer's claim reached. */
  failedAttempts: number;
  /** The status the failure ends the challenge in (the last allowed failure), else null. */
  settle: "DENIED" | null;
  now: number;
}

export interface FactorFailure {
  sid: string;
  /** The event written (domain/factor/machine.ts `verificationFailed`); its data is the factor with `failedAttempts`. */
  type: EventType;
  failedAttempts: number;
  now: number;
}

/** Recent: created after recentStart; matured: recent and created at or before maturedBefore; history: (historyStart, historyEnd]. */
export interface PrefixTrafficQuery {
  serviceSid: string;
  prefix: string;
  recentStart: number;
  maturedBefore: number;
  historyStart: number;
  historyEnd: number;
}

export interface WebhookPatch {
  url?: string;
  eventTypes?: string[];
  enabled?: boolean;
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

export interface AttemptFilter {
  dateCreatedAfter?: number | null;
  dateCreatedBefore?: number | null;
  channel?: AttemptChannel | null;
  country?: string | null;
  /** true: the verification was approved; false: it was not (yet). */
  converted?: boolean | null;
}

export interface StatsFilter {
  from: number;
  to: number;
  channel?: ChannelName | null;
  country?: string | null;
}

export interface PageRequest {
  first: number;
  after: string | null;
}

export interface VerificationFilter {
  status?: VerificationStatus | null;
  to?: string | null;
  channel?: ChannelName | null;
}

/** Everything a new verification needs; used only when no pending one exists for the same `to`. */
export interface NewVerification {
  sid: string;
  codeHash: string;
  codeSealed: string;
  codeLength: number;
  maxCheckAttempts: number;
  amount: string | null;
  payee: string | null;
  locale: string | null;
  customFriendlyName: string | null;
  lookup: Lookup | null;
  tags: Record<string, unknown> | null;
  expiresAt: number;
  country: string | null;
  prefix: string | null;
  testMode: boolean;
}

/** SNA part of a start: the URL's token hash (the URL itself is never stored), and when AUTO falls back to SMS if SNA is not done. */
export interface SnaPlan {
  tokenHash: string;
  clientTokenRequired: boolean;
  fallbackAt: number | null;
}

export interface SnaSession {
  verificationSid: string;
  attemptSid: string;
  to: string;
  clientTokenRequired: boolean;
  autoFallback: boolean;
}

export interface SnaResult {
  verificationSid: string;
  attemptSid: string;
  /** Null when the carrier confirmed the number. */
  errorCode: number | null;
  /** Set when the check must echo a client token (enableSnaClientToken). */
  clientTokenHash: string | null;
  /** AUTO after a failure: the SMS attempt that takes over. */
  fallbackAttemptSid: string | null;
  now: number;
}

export interface StartPlan {
  serviceSid: string;
  to: string;
  channel: ChannelName;
  attemptChannel: AttemptChannel;
  attemptSid: string;
  now: number;
  /** Sends to this `to` since this instant count against maxSendAttempts. */
  sendWindowStart: number;
  maxSendAttempts: number;
  fresh: NewVerification;
  sna: SnaPlan | null;
  /**
   * Whether the pending verification for `to` is the one this start resends (the domain's rule: PSD2
   * binds a code to one amount and payee). If not, it is CANCELED (with its event) and a fresh one made.
   */
  resends: (pending: { amount: string | null; payee: string | null }) => boolean;
}

export type StartOutcome =
  | { ok: true; verification: Verification; created: boolean; events: VerifyEvent[] }
  | { ok: false; reason: "MAX_SEND_ATTEMPTS_REACHED" };

export interface CheckRequest {
  serviceSid: string;
  sid: string | null;
  to: string | null;
  now: number;
  /** An SNA verification the carrier already approved answers as it is (a check is how clients learn it). */
  acceptApprovedSna: boolean;
}

/** What the domain needs to judge a code; the sealed code never leaves the store for a check. */
export interface CheckSubject {
  sid: string;
  channel: string;
  codeHash: string;
  codeLength: number;
  amount: string | null;
  payee: string | null;
  snaState: string | null;
  snaErrorCodes: string | null;
  snaClientTokenRequired: boolean;
  snaClientTokenHash: string | null;
}

/**
 * Runs inside the check's transaction, before the attempt is claimed; a throw writes nothing. `true` /
 * `false` settle a claimed attempt; `{ notYet }` (SNA result not there) claims nothing and records the code.
 */
export type CheckJudge = (subject: CheckSubject) => boolean | { notYet: number | null };

export type CheckOutcome =
  | { ok: true; verification: Verification; valid: boolean; events: VerifyEvent[] }
  | { ok: false; reason: "NOT_FOUND" | VerificationStatus; events: VerifyEvent[] };

export interface StatusChange {
  sid: string;
  serviceSid: string | null;
  status: "APPROVED" | "CANCELED";
  now: number;
}

export type StatusOutcome =
  | { ok: true; verification: Verification; events: VerifyEvent[] }
  | { ok: false; reason: "NOT_FOUND" | VerificationStatus; events: VerifyEvent[] };

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
