import { describe, expect, it } from "vitest";
import { eventTypes } from "../src/domain/events.js";
import { MAX_FAILURES } from "../src/domain/factor/challenge.js";
import { challengeEvents, challengeMachine, factorEvents, factorMachine } from "../src/domain/factor/machine.js";
import { factorFields, publicChallenge, publicFactor } from "../src/domain/factor/projections.js";
import type { Challenge, Factor } from "../src/domain/types.js";

const now = 1_700_000_000_000;

const challenge: Challenge = {
  sid: "YC1",
  serviceSid: "VA1",
  factorSid: "YF1",
  identity: "alice",
  factorType: "PUSH",
  status: "PENDING",
  details: { message: "Log in?", fields: [] },
  hiddenDetails: null,
  dateCreated: now - 1000,
  expiresAt: now + 60_000,
  dateResponded: null,
  silent: false,
  fallbackVerificationSid: null,
  version: 1,
};

const factor: Factor = {
  sid: "YF1",
  serviceSid: "VA1",
  entitySid: "YE1",
  identity: "alice",
  factorType: "TOTP",
  status: "UNVERIFIED",
  friendlyName: "phone",
  dateCreated: now - 1000,
  dateUpdated: now - 1000,
};

describe("challenge machine", () => {
  it("claims an answer of a PENDING challenge, up to the failure cap", () => {
    expect(challengeMachine.claim("YC1", now)).toEqual({ sid: "YC1", status: "PENDING", cap: MAX_FAILURES, now });
    expect(challengeMachine.open).toBe("PENDING");
  });

  it("settles a right answer in its status, with its event", () => {
    expect(challengeMachine.answered("APPROVED")).toEqual({ from: "PENDING", to: "APPROVED", type: "challenge.approved" });
    expect(challengeMachine.answered("DENIED")).toEqual({ from: "PENDING", to: "DENIED", type: "challenge.denied" });
  });

  it("expires a PENDING challenge", () => {
    expect(challengeMachine.expired()).toEqual({ from: "PENDING", to: "EXPIRED", type: "challenge.expired" });
  });

  it("refuses an answer to an unknown or settled challenge as RESPONDED", () => {
    expect(challengeMachine.refusal(null, now)).toBe("RESPONDED");
    expect(challengeMachine.refusal(undefined, now)).toBe("RESPONDED");
    expect(challengeMachine.refusal({ status: "APPROVED", expiresAt: now + 1 }, now)).toBe("RESPONDED");
    expect(challengeMachine.refusal({ status: "DENIED", expiresAt: now + 1 }, now)).toBe("RESPONDED");
  });

  it("refuses an answer to an expired challenge, written down or not, as EXPIRED", () => {
    expect(challengeMachine.refusal({ status: "EXPIRED", expiresAt: now + 1 }, now)).toBe("EXPIRED");
    expect(challengeMachine.refusal({ status: "PENDING", expiresAt: now }, now)).toBe("EXPIRED");
    expect(challengeMachine.refusal({ status: "PENDING", expiresAt: now - 1 }, now)).toBe("EXPIRED");
  });

  it("lets an answer settle a PENDING challenge before its expiry", () => {
    expect(challengeMachine.refusal({ status: "PENDING", expiresAt: now + 1 }, now)).toBeNull();
  });

  it("counts a failed answer and denies the challenge at the cap", () => {
    for (let n = 1; n < MAX_FAILURES; n++) expect(challengeMachine.answerFailed(n)).toEqual({ type: "challenge.answer_failed", settle: null, lockout: false });
    expect(challengeMachine.answerFailed(MAX_FAILURES)).toEqual({ type: "challenge.answer_failed", settle: "DENIED", lockout: true });
  });

  it("names a replayed TOTP code's failure, which also counts toward the cap", () => {
    expect(challengeMachine.answerFailed(1, "replay")).toEqual({ type: "challenge.replay_refused", settle: null, lockout: false });
    expect(challengeMachine.answerFailed(MAX_FAILURES, "replay")).toEqual({ type: "challenge.replay_refused", settle: "DENIED", lockout: true });
  });

  it("turns a failure's settlement into its transition", () => {
    expect(challengeMachine.failureSettles(null)).toBeNull();
    expect(challengeMachine.failureSettles("DENIED")).toEqual({ from: "PENDING", to: "DENIED", type: "challenge.denied" });
  });

  it("writes challenge.fallback_started when a fallback is linked", () => {
    expect(challengeMachine.fallbackLinked.type).toBe("challenge.fallback_started");
  });

  it("makes its events about the challenge, as it now is", () => {
    const created = challengeEvents.created(challenge);
    expect(created).toMatchObject({ type: "challenge.created", serviceSid: "VA1", resourceSid: "YC1", occurredAt: challenge.dateCreated, data: challenge });
    expect(created.sid).toMatch(/^EV/);
    const approved = { ...challenge, status: "APPROVED" as const, dateResponded: now, version: 2 };
    expect(challengeEvents.changed(challengeMachine.answered("APPROVED"), approved, now)).toMatchObject({ type: "challenge.approved", resourceSid: "YC1", occurredAt: now, data: approved });
    expect(challengeEvents.failed("challenge.answer_failed", challenge, 3, now)).toMatchObject({ type: "challenge.answer_failed", occurredAt: now, data: { ...challenge, failedAttempts: 3 } });
  });
});

describe("factor machine", () => {
  it("claims a verification of an UNVERIFIED factor, up to the failure cap", () => {
    expect(factorMachine.claim("YF1", now)).toEqual({ sid: "YF1", status: "UNVERIFIED", cap: MAX_FAILURES, now });
    expect(factorMachine.usable).toBe("VERIFIED");
  });

  it("verifies an UNVERIFIED factor once, with its event", () => {
    expect(factorMachine.verified()).toEqual({ from: "UNVERIFIED", to: "VERIFIED", type: "factor.verified" });
  });

  it("counts a failed verification and locks the factor at the cap", () => {
    for (let n = 1; n < MAX_FAILURES; n++) expect(factorMachine.verificationFailed(n)).toEqual({ type: "factor.verification_failed", locked: false });
    expect(factorMachine.verificationFailed(MAX_FAILURES)).toEqual({ type: "factor.verification_failed", locked: true });
  });

  it("makes created, verified, failed and deleted events about the factor", () => {
    expect(factorEvents.created(factor)).toMatchObject({ type: "factor.created", serviceSid: "VA1", resourceSid: "YF1", occurredAt: factor.dateCreated, data: factor });
    const verified = { ...factor, status: "VERIFIED" as const, dateUpdated: now };
    expect(factorEvents.verified(verified, now)).toMatchObject({ type: "factor.verified", occurredAt: now, data: verified });
    expect(factorEvents.failed("factor.verification_failed", factor, 2, now)).toMatchObject({ type: "factor.verification_failed", occurredAt: now, data: { ...factor, failedAttempts: 2 } });
    expect(factorEvents.deleted(factor, now)).toMatchObject({ type: "factor.deleted", occurredAt: now, data: factor });
  });

  it("uses only event types of the catalogue", () => {
    const types = [
      challengeMachine.answered("APPROVED").type,
      challengeMachine.answered("DENIED").type,
      challengeMachine.expired().type,
      challengeMachine.answerFailed(1).type,
      challengeMachine.answerFailed(1, "replay").type,
      challengeMachine.fallbackLinked.type,
      factorMachine.verified().type,
      factorMachine.verificationFailed(1).type,
    ];
    for (const type of types) expect(eventTypes).toContain(type);
  });
});

describe("projections", () => {
  it("show clients a factor without its secrets", () => {
    const record = { ...factor, credential: null, publicKey: "k", counter: 7, config: {}, secretSealed: "s", pendingChallenge: "p", failedAttempts: 1, userHandle: "u" };
    expect(publicFactor(record)).toEqual(factor);
    expect(factorFields({ ...factor, extra: 1 } as Factor)).toEqual(factor);
  });

  it("show clients a challenge without its WebAuthn challenge, failures or fallback", () => {
    expect(publicChallenge({ ...challenge, webauthnChallenge: "w", failedAttempts: 2, fallback: null })).toEqual(challenge);
  });
});
