import { type EventType, deliveryEvent } from "../events.js";
import type { AttemptChannel, DeliveryStatus, VerificationStatus } from "../types.js";

/**
 * The verification state machine, as pure functions: given the row as the store found (and locked) it
 * and what happened, each answers the new status (or none), the columns that change and the event to
 * write. The store applies the answer in its transaction; it never decides a status or names an event.
 */

/** The one status in which a verification still changes; every other is final. */
export const OPEN = "PENDING" satisfies VerificationStatus;
/** A send attempt waiting for its delivery job. */
export const QUEUED = "QUEUED" satisfies DeliveryStatus;
/** A provider's receipt applies only while the attempt has not been settled. */
export const RECEIPT_APPLIES: readonly DeliveryStatus[] = ["QUEUED", "SENT"];
/** Twilio's SNA code for a result still pending (channels/sna/carrier.ts `snaErrors.RESULT_PENDING`). */
export const SNA_RESULT_PENDING = 60519;
/** The channel (and attempt channel) of Silent Network Auth. */
export const SNA = "SNA" satisfies AttemptChannel;

export type SnaState = "awaiting" | "confirmed" | "failed";

/** What the machine reads of a verification. */
export interface VerificationState {
  status: string;
  channel: string;
  expiresAt: number;
  snaState: string | null;
  snaErrorCodes: string | null;
}

/** A move to a final status, with its event. */
export interface Settle {
  status: VerificationStatus;
  event: EventType;
}

/** What a send attempt becomes. */
export interface AttemptResult {
  status: DeliveryStatus;
  errorCode: string | null;
}

/** AUTO: the verification continues over SMS with a new, queued attempt. */
export interface Fallback {
  channel: AttemptChannel;
  attempt: DeliveryStatus;
  event: EventType;
}

export const expiry: Settle = { status: "EXPIRED", event: "verification.expired" };
export const fallback: Fallback = { channel: "SMS", attempt: QUEUED, event: "verification.fallback" };

export const isDue = (row: Pick<VerificationState, "expiresAt">, now: number) => row.expiresAt <= now;

/** The send cap: `sends` made to this recipient in the window. */
export const sendCapReached = (sends: number, maxSendAttempts: number) => sends >= maxSendAttempts;

/**
 * A start for a recipient: with a pending verification that this start resends, it is reused (the
 * same code, a new attempt); one it may not resend (PSD2: another amount or payee) is canceled first.
 */
export function start<P>(pending: P | undefined, resends: (pending: P) => boolean): { reuse: boolean; cancel: Settle | null; event: EventType } {
  if (pending === undefined) return { reuse: false, cancel: null, event: "verification.started" };
  if (resends(pending)) return { reuse: true, cancel: null, event: "verification.resent" };
  return { reuse: false, cancel: { status: "CANCELED", event: "verification.canceled" }, event: "verification.started" };
}

/** A start's attempt: SNA sends nothing (the URL is the attempt, SENT at once); others wait for delivery. */
export const firstAttempt = (sna: boolean): DeliveryStatus => (sna ? "SENT" : QUEUED);

/** An SNA start: the carrier's answer is awaited; the error-code list exists from now on (empty). */
export const snaBegin = (row: Pick<VerificationState, "snaErrorCodes">) => ({ snaState: "awaiting" as SnaState, snaErrorCodes: row.snaErrorCodes ?? "[]" });

/** Appends an SNA error code to the JSON list (null: none yet). */
export function appendSnaError(codes: string | null, code: number): string {
  return JSON.stringify([...(codes ? (JSON.parse(codes) as number[]) : []), code]);
}

/** Before a check is judged (or a status set): answer as it is, refuse, expire, or go on. */
export type Gate = { kind: "answer" } | { kind: "refuse"; reason: VerificationStatus } | { kind: "expire"; settle: Settle } | { kind: "go" };

/** A check: an SNA verification the carrier already approved answers as it is (when asked without a code). */
export function checkGate(row: VerificationState, now: number, acceptApprovedSna: boolean): Gate {
  if (row.status === "APPROVED" && row.channel === SNA && acceptApprovedSna && !isDue(row, now)) return { kind: "answer" };
  return openGate(row, now);
}

function openGate(row: VerificationState, now: number): Exclude<Gate, { kind: "answer" }> {
  if (row.status !== OPEN) return { kind: "refuse", reason: row.status as VerificationStatus };
  if (isDue(row, now)) return { kind: "expire", settle: expiry };
  return { kind: "go" };
}

/** A judged check of a claimed attempt (`claimed`: the row after the claim; undefined: none left). */
export type Checked = { kind: "refuse"; reason: VerificationStatus } | { kind: "failed"; event: EventType } | { kind: "settle"; valid: boolean; settle: Settle };

export function checked(claimed: { checkAttempts: number; maxCheckAttempts: number } | undefined, valid: boolean): Checked {
  if (!claimed) return { kind: "refuse", reason: "MAX_ATTEMPTS_REACHED" };
  if (valid) return { kind: "settle", valid, settle: { status: "APPROVED", event: "verification.approved" } };
  if (claimed.checkAttempts >= claimed.maxCheckAttempts) return { kind: "settle", valid, settle: { status: "MAX_ATTEMPTS_REACHED", event: "verification.max_attempts_reached" } };
  return { kind: "failed", event: "verification.check_failed" };
}

/** A check of an SNA verification whose result is not there yet: the code is recorded, no attempt counted. */
export const snaNotYet = (row: Pick<VerificationState, "snaErrorCodes">, code: number) => ({ snaErrorCodes: appendSnaError(row.snaErrorCodes, code), event: "verification.sna_pending" as EventType });

/** A manual status change (updateVerification). */
export function statusChange(row: VerificationState, now: number, status: "APPROVED" | "CANCELED"): Extract<Gate, { kind: "refuse" | "expire" }> | { kind: "settle"; settle: Settle } {
  const gate = openGate(row, now);
  if (gate.kind === "refuse" || gate.kind === "expire") return gate;
  return { kind: "settle", settle: { status, event: status === "APPROVED" ? "verification.approved" : "verification.canceled" } };
}

/** The device may open its SNA URL while the verification is pending over SNA. */
export const snaOpenable = (row: Pick<VerificationState, "status" | "channel">) => row.status === OPEN && row.channel === SNA;

const snaAttempt = (errorCode: number | null): AttemptResult => (errorCode === null ? { status: "DELIVERED", errorCode: null } : { status: "UNDELIVERED", errorCode: String(errorCode) });

export type SnaOutcome =
  /** Not pending any more: nothing changes. */
  | { kind: "ignore" }
  /** AUTO already fell back (the timeout won the race): the late result only completes its attempt. */
  | { kind: "late"; attempt: AttemptResult }
  /** The carrier confirmed the number: approved at once. */
  | { kind: "approve"; attempt: AttemptResult; snaState: SnaState; settle: Settle }
  /** Confirmed, and the check must echo the client token. */
  | { kind: "confirm"; attempt: AttemptResult; snaState: SnaState; clientTokenHash: string; event: EventType }
  /** Failed; with `fallback`, AUTO continues over SMS. */
  | { kind: "fail"; attempt: AttemptResult; snaState: SnaState; snaErrorCodes: string; event: EventType; fallback: Fallback | null };

/** The carrier's answer to an opened SNA URL. */
export function snaResult(row: VerificationState, result: { errorCode: number | null; clientTokenHash: string | null; fallback: boolean }): SnaOutcome {
  if (row.status !== OPEN) return { kind: "ignore" };
  const attempt = snaAttempt(result.errorCode);
  if (row.channel !== SNA || row.snaState !== "awaiting") return { kind: "late", attempt };
  if (result.errorCode === null && !result.clientTokenHash) return { kind: "approve", attempt, snaState: "confirmed", settle: { status: "APPROVED", event: "verification.approved" } };
  if (result.errorCode === null) return { kind: "confirm", attempt, snaState: "confirmed", clientTokenHash: result.clientTokenHash as string, event: "verification.sna_confirmed" };
  return {
    kind: "fail",
    attempt,
    snaState: "failed",
    snaErrorCodes: appendSnaError(row.snaErrorCodes, result.errorCode),
    event: "verification.sna_failed",
    fallback: result.fallback ? fallback : null,
  };
}

/**
 * AUTO: the SNA attempt was not completed in time. Still awaiting: the SENT SNA attempt is settled as
 * still pending (60519) and SMS takes over; otherwise nothing (null).
 */
export function snaTimeout(row: VerificationState): { attemptWas: DeliveryStatus; attempt: AttemptResult; snaState: SnaState; snaErrorCodes: string; fallback: Fallback } | null {
  if (row.status !== OPEN || row.channel !== SNA || row.snaState !== "awaiting") return null;
  return {
    attemptWas: "SENT",
    attempt: { status: "UNDELIVERED", errorCode: String(SNA_RESULT_PENDING) },
    snaState: "failed",
    snaErrorCodes: appendSnaError(row.snaErrorCodes, SNA_RESULT_PENDING),
    fallback,
  };
}

/** A send attempt's new delivery status (a send, a receipt, an abandoned send): its event. */
export const delivered = (status: DeliveryStatus): EventType => deliveryEvent(status);
