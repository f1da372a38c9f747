import type { ChallengeRecord, FactorRecord, FactorStore } from "../ports/index.js";
import type { Clock } from "../clock.js";
import { VerifyError, notFound } from "../errors.js";
import { assertAnswerable, tooManyAnswers } from "./challenge.js";
import { challengeMachine, factorMachine } from "./machine.js";

/** Where refused answers are told to the operator: sids and the client's address, never a code or a token (a pino logger fits). */
export interface SecurityLog {
  info(fields: Record<string, unknown>, message: string): void;
  warn(fields: Record<string, unknown>, message: string): void;
}

/** The client that sent an answer, as the HTTP layer saw it. */
export interface Requester {
  clientAddress?: string | null;
}

const tooManyVerifications = () => new VerifyError("TOO_MANY_ATTEMPTS", "Too many failed verifications for this factor; create a new one.");

/**
 * The attempt counters of challenge answers and factor verifications (DESIGN.md principle 8). Every
 * answer first claims an attempt (the store's one conditional write, which counts it as failed while
 * fewer than five are), is judged only if it got one, then is settled: a right answer gives its attempt
 * back with the approval, a wrong one keeps it, and the fifth failure denies a challenge (a factor stays
 * UNVERIFIED, locked). So however many answers arrive at once, on however many instances, at most five
 * are ever judged.
 */
export class AnswerAttempts {
  constructor(private readonly deps: { store: FactorStore; clock: Clock; log: SecurityLog }) {}

  /** The claimed challenge (its `failedAttempts` counts this answer), or the reason it may not be answered. */
  async claimAnswer(record: ChallengeRecord): Promise<ChallengeRecord> {
    const now = this.deps.clock.now();
    const claim = await this.deps.store.claimChallengeAnswer(challengeMachine.claim(record.sid, now));
    if (claim.claimed) return claim.challenge;
    if (!claim.challenge) throw notFound("Challenge");
    assertAnswerable(claim.challenge, now);
    // Answerable a moment ago and refused now: the last attempts went to answers still being judged.
    throw tooManyAnswers();
  }

  /** A claimed answer was wrong (or a replayed TOTP code): it stays counted, and the fifth denies the challenge. */
  async answerFailed(claimed: ChallengeRecord, message: string, requester: Requester, kind: "wrong" | "replay" = "wrong"): Promise<never> {
    const failedAttempts = claimed.failedAttempts;
    const { type, settle, lockout } = challengeMachine.answerFailed(failedAttempts, kind);
    await this.deps.store.failChallenge({ sid: claimed.sid, type, failedAttempts, settle, now: this.deps.clock.now() });
    const fields = { serviceSid: claimed.serviceSid, challengeSid: claimed.sid, factorSid: claimed.factorSid, failedAttempts, clientAddress: requester.clientAddress ?? null };
    if (kind === "replay") this.deps.log.warn(fields, "a TOTP code was replayed");
    else this.deps.log.info(fields, "a challenge answer was refused");
    if (lockout) {
      this.deps.log.warn(fields, "challenge denied after too many failed answers");
      throw tooManyAnswers();
    }
    throw new VerifyError("CHALLENGE_VERIFICATION_FAILED", message);
  }

  /** The claimed factor, or `verified` when another answer verified it first; a locked factor is refused. */
  async claimVerification(factor: FactorRecord): Promise<{ claimed: FactorRecord } | { verified: FactorRecord }> {
    const claim = await this.deps.store.claimFactorVerification(factorMachine.claim(factor.sid, this.deps.clock.now()));
    if (claim.claimed) return { claimed: claim.factor };
    if (!claim.factor) throw notFound("Factor");
    if (claim.factor.status === "VERIFIED") return { verified: claim.factor };
    throw tooManyVerifications();
  }

  /** A claimed verification failed: it stays counted, and the fifth locks the factor. */
  async verificationFailed(claimed: FactorRecord, message: string, requester: Requester): Promise<never> {
    const failedAttempts = claimed.failedAttempts;
    const { type, locked } = factorMachine.verificationFailed(failedAttempts);
    await this.deps.store.failFactor({ sid: claimed.sid, type, failedAttempts, now: this.deps.clock.now() });
    const fields = { serviceSid: claimed.serviceSid, factorSid: claimed.sid, failedAttempts, clientAddress: requester.clientAddress ?? null };
    this.deps.log.info(fields, "a factor verification was refused");
    if (locked) {
      this.deps.log.warn(fields, "factor locked after too many failed verifications");
      throw tooManyVerifications();
    }
    throw new VerifyError("FACTOR_VERIFICATION_FAILED", message);
  }
}
