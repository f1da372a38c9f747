import { VerifyError } from "../errors.js";
import { newSid } from "../ids.js";
import type { Challenge, ChallengeDetails, FactorType } from "../types.js";

/** Five failed answers lock a factor or a challenge (API.md TOO_MANY_ATTEMPTS). */
export const MAX_FAILURES = 5;

/** A new PENDING challenge, whatever the factor type. */
export function newChallenge(o: {
  serviceSid: string;
  factorSid: string | null;
  identity: string | null;
  factorType: FactorType;
  details: { message: string; fields?: ChallengeDetails["fields"] | null } | null | undefined;
  hiddenDetails: Record<string, unknown> | null | undefined;
  now: number;
  expiresInSeconds: number;
  silent?: boolean | null;
}): Challenge {
  return {
    sid: newSid("YC"),
    serviceSid: o.serviceSid,
    factorSid: o.factorSid,
    identity: o.identity,
    factorType: o.factorType,
    status: "PENDING",
    details: o.details ? { message: o.details.message, fields: o.details.fields ?? [] } : null,
    hiddenDetails: o.hiddenDetails ?? null,
    dateCreated: o.now,
    expiresAt: o.now + o.expiresInSeconds * 1000,
    dateResponded: null,
    silent: o.silent ?? false,
    fallbackVerificationSid: null,
    version: 1,
  };
}

export const tooManyAnswers = () => new VerifyError("TOO_MANY_ATTEMPTS", "Too many failed answers for this challenge; it is denied.", { twilioCode: 60308 });

/**
 * Throws unless the challenge may still be answered: PENDING, unexpired, not locked by failures. A
 * challenge its fifth failure denied answers TOO_MANY_ATTEMPTS from then on, whatever the answer.
 */
export function assertAnswerable(record: { status: Challenge["status"]; expiresAt: number; failedAttempts: number }, now: number): void {
  if (record.failedAttempts >= MAX_FAILURES) throw tooManyAnswers();
  if (record.status !== "PENDING" && record.status !== "EXPIRED") throw new VerifyError("CHALLENGE_ALREADY_RESPONDED", "This challenge was already answered.");
  if (record.status === "EXPIRED" || record.expiresAt <= now) throw new VerifyError("CHALLENGE_EXPIRED", "This challenge has expired; create a new one.");
}
