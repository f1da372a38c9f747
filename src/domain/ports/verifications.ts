import type { DeliveryOptions, TemplateChoice } from "../types.js";
import type { AttemptChannel, ChannelName, Lookup, Page, Verification, VerificationStatus, VerifyEvent } from "../types.js";
import type { PageRequest } from "./page.js";

/** Verifications: start, check, status, expiry, and Silent Network Auth. Every write returns its events (the store publishes them after commit). */
export interface VerificationStore {
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
  /** The service template the messages are worded with; null: the built-in texts. */
  template?: TemplateChoice | null;
  /** Digits a call dials, an email's sender; null: as configured. */
  deliveryOptions?: DeliveryOptions | null;
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

export type StartOutcome = { ok: true; verification: Verification; created: boolean; events: VerifyEvent[] } | { ok: false; reason: "MAX_SEND_ATTEMPTS_REACHED" };

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

export type CheckOutcome = { ok: true; verification: Verification; valid: boolean; events: VerifyEvent[] } | { ok: false; reason: "NOT_FOUND" | VerificationStatus; events: VerifyEvent[] };

export interface StatusChange {
  sid: string;
  serviceSid: string | null;
  status: "APPROVED" | "CANCELED";
  now: number;
}

export type StatusOutcome = { ok: true; verification: Verification; events: VerifyEvent[] } | { ok: false; reason: "NOT_FOUND" | VerificationStatus; events: VerifyEvent[] };
