import { type EventType, newEvent } from "../events.js";
import type { ChallengeStatus, Factor, FactorStatus, VerifyEvent } from "../types.js";
import { MAX_FAILURES } from "./challenge.js";

/**
 * The state machines of factors and challenges, as pure functions: which status a change moves from and
 * to, and the event it writes. The store applies a transition as one conditional write (`where status =
 * from`), so a change happens once however many instances race for it; it never spells a status or an
 * event name itself.
 */
export interface Transition<S extends string> {
  from: S;
  to: S;
  type: EventType;
}

/** The domain's rule for one claim: which status may be answered, and how many failures it allows. */
export interface Claim<S extends string> {
  sid: string;
  status: S;
  cap: number;
  now: number;
}

/** An answer's failure: the event it writes, and the status it settles the challenge in (the last allowed failure). */
export interface ChallengeFailureRule {
  type: EventType;
  settle: "DENIED" | null;
  lockout: boolean;
}

/** Why an answer did not settle a challenge: too late (RESPONDED, EXPIRED), or its proof moved nothing forward (CLONED passkey, REPLAYed TOTP step). */
export type AnswerRefusal = "RESPONDED" | "EXPIRED" | "CLONED" | "REPLAY";

type Owned = { sid: string; serviceSid: string };

// ── challenges: PENDING → APPROVED | DENIED | EXPIRED, once ────────────────────────────────────────

const PENDING = "PENDING" satisfies ChallengeStatus;

const challengeSettled: Record<"APPROVED" | "DENIED" | "EXPIRED", Transition<ChallengeStatus>> = {
  APPROVED: { from: PENDING, to: "APPROVED", type: "challenge.approved" },
  DENIED: { from: PENDING, to: "DENIED", type: "challenge.denied" },
  EXPIRED: { from: PENDING, to: "EXPIRED", type: "challenge.expired" },
};

export const challengeMachine = {
  /** The status in which a challenge may be answered, expired or linked to its fallback. */
  open: PENDING,

  /** An answer claims an attempt while the challenge is open, unexpired and has fewer than five failures. */
  claim: (sid: string, now: number): Claim<typeof PENDING> => ({ sid, status: PENDING, cap: MAX_FAILURES, now }),

  /** A right answer (a push device's denial is one too) settles the challenge in the answer's status. */
  answered: (status: "APPROVED" | "DENIED"): Transition<ChallengeStatus> => challengeSettled[status],

  /** Nobody answered in time. */
  expired: (): Transition<ChallengeStatus> => challengeSettled.EXPIRED,

  /**
   * Why an answer arriving at `now` may no longer settle the challenge (null: it may). Unknown or already
   * settled: RESPONDED; expired (written down or not yet): EXPIRED.
   */
  refusal: (current: { status: ChallengeStatus; expiresAt: number } | null | undefined, now: number): Extract<AnswerRefusal, "RESPONDED" | "EXPIRED"> | null => {
    if (!current || (current.status !== PENDING && current.status !== "EXPIRED")) return "RESPONDED";
    if (current.status === "EXPIRED" || current.expiresAt <= now) return "EXPIRED";
    return null;
  },

  /**
   * A claimed answer was wrong (or replayed a TOTP code): it stays counted. The failure that reaches the
   * cap denies the challenge.
   */
  answerFailed: (failedAttempts: number, kind: "wrong" | "replay" = "wrong"): ChallengeFailureRule => {
    const lockout = failedAttempts >= MAX_FAILURES;
    return { type: kind === "replay" ? "challenge.replay_refused" : "challenge.answer_failed", settle: lockout ? "DENIED" : null, lockout };
  },

  /** The status a failure settles the challenge in, as a transition (null: it stays open). */
  failureSettles: (settle: "DENIED" | null): Transition<ChallengeStatus> | null => (settle ? challengeSettled[settle] : null),

  /** A silent challenge's OTP fallback started: no new status, a new version subscribers see. */
  fallbackLinked: { type: "challenge.fallback_started" } as { type: EventType },
};

export const challengeEvents = {
  created: (challenge: Owned & { dateCreated: number }): VerifyEvent => newEvent("challenge.created", challenge.serviceSid, challenge.sid, challenge, challenge.dateCreated),
  /** The event of a transition (or the fallback link), its data the challenge as it now is. */
  changed: (change: { type: EventType }, challenge: Owned, now: number): VerifyEvent => newEvent(change.type, challenge.serviceSid, challenge.sid, challenge, now),
  /** A failed answer's event: the challenge with the count its claim reached. */
  failed: (type: EventType, challenge: Owned, failedAttempts: number, now: number): VerifyEvent => newEvent(type, challenge.serviceSid, challenge.sid, { ...challenge, failedAttempts }, now),
};

// ── factors: UNVERIFIED → VERIFIED, once ───────────────────────────────────────────────────────────

const UNVERIFIED = "UNVERIFIED" satisfies FactorStatus;
const verified: Transition<FactorStatus> = { from: UNVERIFIED, to: "VERIFIED", type: "factor.verified" };

export const factorMachine = {
  /** The status of a factor that challenges may be asked of (and passkeys signed in with). */
  usable: "VERIFIED" satisfies FactorStatus as FactorStatus,

  /** A verification claims an attempt while the factor is UNVERIFIED and has fewer than five failures. */
  claim: (sid: string, now: number): Claim<typeof UNVERIFIED> => ({ sid, status: UNVERIFIED, cap: MAX_FAILURES, now }),

  /** The proof was right: the factor is verified. */
  verified: (): Transition<FactorStatus> => verified,

  /** The proof was wrong: it stays counted, and the failure that reaches the cap locks the factor (it stays UNVERIFIED). */
  verificationFailed: (failedAttempts: number): { type: EventType; locked: boolean } => ({ type: "factor.verification_failed", locked: failedAttempts >= MAX_FAILURES }),
};

export const factorEvents = {
  created: (factor: Factor): VerifyEvent => newEvent("factor.created", factor.serviceSid, factor.sid, factor, factor.dateCreated),
  verified: (factor: Factor, now: number): VerifyEvent => newEvent(verified.type, factor.serviceSid, factor.sid, factor, now),
  deleted: (factor: Factor, now: number): VerifyEvent => newEvent("factor.deleted", factor.serviceSid, factor.sid, factor, now),
  /** Its name or settings changed: the factor as it now is, with the names of what changed (never a token's value). */
  updated: (factor: Factor, changed: readonly string[], now: number): VerifyEvent => newEvent("factor.updated", factor.serviceSid, factor.sid, { ...factor, changed: [...changed] }, now),
  /** A failed verification's event: the factor with the count its claim reached. */
  failed: (type: EventType, factor: Factor, failedAttempts: number, now: number): VerifyEvent => newEvent(type, factor.serviceSid, factor.sid, { ...factor, failedAttempts }, now),
};
