import type { Challenge, ChallengeFallback, ChallengeStatus, Entity, Factor, FactorStatus, FactorType, Page, PasskeyCredential, VerifyEvent } from "../types.js";
import type { OutboxJob } from "./outbox.js";
import type { PageRequest } from "./page.js";
import type { EventType } from "../events.js";

/** Entities, factors (TOTP, passkeys, push) and their challenges; attempts are claimed before they are judged. Every write returns its events (the store publishes them after commit). */
export interface FactorStore {
  /** The entity of an identity, created on first use (the given one is inserted only if none exists). */
  ensureEntity(entity: Entity, now: number): Promise<Entity>;
  /** The entity of an identity (Twilio's Entity resource), or null. */
  getEntity(serviceSid: string, identity: string): Promise<EntityRecord | null>;
  /** A service's entities, oldest first. */
  listEntities(serviceSid: string, page: PageRequest): Promise<Page<EntityRecord>>;
  /** An identity's factors, oldest first. */
  listEntityFactors(serviceSid: string, identity: string, page: PageRequest): Promise<Page<FactorRecord>>;
  /** Deletes an identity's entity and every factor of it (one event per factor); false when there was none. */
  deleteEntity(serviceSid: string, identity: string, now: number): Promise<boolean>;
  /** The factor whose passkey registration has this WebAuthn challenge. */
  findFactorByPendingChallenge(serviceSid: string, challenge: string): Promise<FactorRecord | null>;
  /** The passkey challenge whose ceremony has this WebAuthn challenge. */
  findChallengeByWebauthn(serviceSid: string, webauthnChallenge: string): Promise<ChallengeRecord | null>;
  /** Queues a challenge's push notice again, unless one is still waiting to be sent (true: queued). */
  queueChallengeNotice(sid: string, now: number): Promise<boolean>;
  /** An identity's challenges (ordered by creation), optionally of one factor and in one status. */
  listEntityChallenges(filter: EntityChallengeFilter, page: PageRequest): Promise<Page<ChallengeRecord>>;
  /** Null when the factor's entity was deleted since it was ensured (nothing written). */
  createFactor(factor: NewFactor): Promise<VerifyEvent | null>;
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
  /**
   * Writes a factor's new name and/or settings with its `factor.updated` event, in one conditional write
   * (with `whileStatus`, only while the factor still has that status). Null: no such factor (or no longer in that status).
   */
  updateFactor(sid: string, patch: FactorPatch, now: number): Promise<{ factor: Factor; event: VerifyEvent } | null>;
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
}

export interface EntityRecord extends Entity {
  dateCreated: number;
}

export interface EntityChallengeFilter {
  serviceSid: string;
  identity: string;
  factorSid: string | null;
  status: ChallengeStatus | null;
  order: "asc" | "desc";
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

/** A factor's change, as the domain decided it (factor/factors.ts `updateFactor`). */
export interface FactorPatch {
  friendlyName?: string;
  /** The whole new config (the type's settings, merged by the domain). */
  config?: Record<string, unknown>;
  /** Only while the factor has this status (TOTP parameters change only while UNVERIFIED). */
  whileStatus?: FactorStatus;
  /** What changed, for the event: `friendlyName` and the settings' names. */
  changed: readonly string[];
}

export interface FactorFailure {
  sid: string;
  /** The event written (domain/factor/machine.ts `verificationFailed`); its data is the factor with `failedAttempts`. */
  type: EventType;
  failedAttempts: number;
  now: number;
}
