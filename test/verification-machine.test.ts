import { describe, expect, it } from "vitest";
import * as machine from "../src/domain/verification/machine.js";

// The verification state machine alone: pure functions over a row, at fixed instants.
const NOW = 1_700_000_000_000;
const row = (over: Partial<machine.VerificationState> = {}): machine.VerificationState => ({
  status: "PENDING",
  channel: "SMS",
  expiresAt: NOW + 600_000,
  snaState: null,
  snaErrorCodes: null,
  ...over,
});
const sna = (over: Partial<machine.VerificationState> = {}) => row({ channel: "SNA", snaState: "awaiting", snaErrorCodes: "[]", ...over });

describe("verification machine: start", () => {
  it("no pending verification: a new one is started", () => {
    expect(machine.start(undefined, () => true)).toEqual({ reuse: false, cancel: null, event: "verification.started" });
  });

  it("a pending one this start resends is reused (resent)", () => {
    expect(machine.start({ amount: null }, () => true)).toEqual({ reuse: true, cancel: null, event: "verification.resent" });
  });

  it("a pending one it may not resend is canceled, and a new one started", () => {
    expect(machine.start({ amount: "10" }, () => false)).toEqual({ reuse: false, cancel: { status: "CANCELED", event: "verification.canceled" }, event: "verification.started" });
  });

  it("the send cap counts sends already made", () => {
    expect(machine.sendCapReached(4, 5)).toBe(false);
    expect(machine.sendCapReached(5, 5)).toBe(true);
  });

  it("a message waits QUEUED for its delivery; an SNA URL is SENT at once, its error list starts empty", () => {
    expect(machine.firstAttempt(false)).toBe("QUEUED");
    expect(machine.firstAttempt(true)).toBe("SENT");
    expect(machine.snaBegin({ snaErrorCodes: null })).toEqual({ snaState: "awaiting", snaErrorCodes: "[]" });
    expect(machine.snaBegin({ snaErrorCodes: "[60500]" })).toEqual({ snaState: "awaiting", snaErrorCodes: "[60500]" });
  });
});

describe("verification machine: check", () => {
  it("a pending, unexpired verification is judged", () => {
    expect(machine.checkGate(row(), NOW, false)).toEqual({ kind: "go" });
  });

  it("expires at its expiry instant, not a millisecond later", () => {
    expect(machine.checkGate(row({ expiresAt: NOW + 1 }), NOW, false)).toEqual({ kind: "go" });
    expect(machine.checkGate(row({ expiresAt: NOW }), NOW, false)).toEqual({ kind: "expire", settle: { status: "EXPIRED", event: "verification.expired" } });
  });

  it("a final verification refuses with its status", () => {
    for (const status of ["APPROVED", "CANCELED", "EXPIRED", "MAX_ATTEMPTS_REACHED"]) {
      expect(machine.checkGate(row({ status }), NOW, false)).toEqual({ kind: "refuse", reason: status });
    }
  });

  it("an SNA verification the carrier approved answers as it is, to a check without a code, until it expires", () => {
    expect(machine.checkGate(sna({ status: "APPROVED" }), NOW, true)).toEqual({ kind: "answer" });
    expect(machine.checkGate(sna({ status: "APPROVED" }), NOW, false)).toEqual({ kind: "refuse", reason: "APPROVED" });
    expect(machine.checkGate(sna({ status: "APPROVED", expiresAt: NOW }), NOW, true)).toEqual({ kind: "refuse", reason: "APPROVED" });
    expect(machine.checkGate(row({ status: "APPROVED" }), NOW, true)).toEqual({ kind: "refuse", reason: "APPROVED" });
  });

  it("a right code approves", () => {
    expect(machine.checked({ checkAttempts: 1, maxCheckAttempts: 5 }, true)).toEqual({ kind: "settle", valid: true, settle: { status: "APPROVED", event: "verification.approved" } });
    // The last allowed attempt may still be right.
    expect(machine.checked({ checkAttempts: 5, maxCheckAttempts: 5 }, true)).toMatchObject({ settle: { status: "APPROVED" } });
  });

  it("a wrong code fails the check; the last allowed one ends the verification", () => {
    expect(machine.checked({ checkAttempts: 4, maxCheckAttempts: 5 }, false)).toEqual({ kind: "failed", event: "verification.check_failed" });
    expect(machine.checked({ checkAttempts: 5, maxCheckAttempts: 5 }, false)).toEqual({
      kind: "settle",
      valid: false,
      settle: { status: "MAX_ATTEMPTS_REACHED", event: "verification.max_attempts_reached" },
    });
  });

  it("no attempt left to claim refuses as MAX_ATTEMPTS_REACHED", () => {
    expect(machine.checked(undefined, true)).toEqual({ kind: "refuse", reason: "MAX_ATTEMPTS_REACHED" });
  });

  it("an SNA result not there yet records its code (sna_pending)", () => {
    expect(machine.snaNotYet(sna(), machine.SNA_RESULT_PENDING)).toEqual({ snaErrorCodes: "[60519]", event: "verification.sna_pending" });
  });
});

describe("verification machine: expiry and manual status", () => {
  it("due at its expiry instant", () => {
    expect(machine.isDue(row({ expiresAt: NOW }), NOW)).toBe(true);
    expect(machine.isDue(row({ expiresAt: NOW + 1 }), NOW)).toBe(false);
    expect(machine.expiry).toEqual({ status: "EXPIRED", event: "verification.expired" });
  });

  it("a pending verification is approved or canceled by hand", () => {
    expect(machine.statusChange(row(), NOW, "APPROVED")).toEqual({ kind: "settle", settle: { status: "APPROVED", event: "verification.approved" } });
    expect(machine.statusChange(row(), NOW, "CANCELED")).toEqual({ kind: "settle", settle: { status: "CANCELED", event: "verification.canceled" } });
  });

  it("an expired one expires instead; a final one refuses", () => {
    expect(machine.statusChange(row({ expiresAt: NOW }), NOW, "APPROVED")).toEqual({ kind: "expire", settle: machine.expiry });
    expect(machine.statusChange(row({ status: "CANCELED" }), NOW, "APPROVED")).toEqual({ kind: "refuse", reason: "CANCELED" });
    // An approved SNA verification is no exception for a manual change.
    expect(machine.statusChange(sna({ status: "APPROVED" }), NOW, "CANCELED")).toEqual({ kind: "refuse", reason: "APPROVED" });
  });
});

describe("verification machine: SNA", () => {
  const result = (over: Partial<{ errorCode: number | null; clientTokenHash: string | null; fallback: boolean }> = {}) => ({ errorCode: null, clientTokenHash: null, fallback: false, ...over });

  it("the URL opens while the verification is pending over SNA", () => {
    expect(machine.snaOpenable(sna())).toBe(true);
    expect(machine.snaOpenable(sna({ status: "EXPIRED" }))).toBe(false);
    expect(machine.snaOpenable(sna({ channel: "SMS" }))).toBe(false);
  });

  it("confirmed: approved at once, the attempt DELIVERED", () => {
    expect(machine.snaResult(sna(), result())).toEqual({
      kind: "approve",
      attempt: { status: "DELIVERED", errorCode: null },
      snaState: "confirmed",
      settle: { status: "APPROVED", event: "verification.approved" },
    });
  });

  it("confirmed with a client token: the check must echo it", () => {
    expect(machine.snaResult(sna(), result({ clientTokenHash: "h" }))).toEqual({
      kind: "confirm",
      attempt: { status: "DELIVERED", errorCode: null },
      snaState: "confirmed",
      clientTokenHash: "h",
      event: "verification.sna_confirmed",
    });
  });

  it("failed: the code is appended, the attempt UNDELIVERED", () => {
    expect(machine.snaResult(sna({ snaErrorCodes: "[60519]" }), result({ errorCode: 60500 }))).toEqual({
      kind: "fail",
      attempt: { status: "UNDELIVERED", errorCode: "60500" },
      snaState: "failed",
      snaErrorCodes: "[60519,60500]",
      event: "verification.sna_failed",
      fallback: null,
    });
  });

  it("failed under AUTO: SMS takes over with a queued attempt", () => {
    expect(machine.snaResult(sna(), result({ errorCode: 60500, fallback: true }))).toMatchObject({
      kind: "fail",
      snaErrorCodes: "[60500]",
      fallback: { channel: "SMS", attempt: "QUEUED", event: "verification.fallback" },
    });
  });

  it("after the fallback (or the URL's state moved on) a late result only completes its attempt", () => {
    expect(machine.snaResult(sna({ channel: "SMS", snaState: "failed" }), result())).toEqual({ kind: "late", attempt: { status: "DELIVERED", errorCode: null } });
    expect(machine.snaResult(sna({ snaState: "confirmed" }), result({ errorCode: 60500 }))).toEqual({ kind: "late", attempt: { status: "UNDELIVERED", errorCode: "60500" } });
  });

  it("a final verification ignores the result", () => {
    expect(machine.snaResult(sna({ status: "EXPIRED" }), result())).toEqual({ kind: "ignore" });
  });

  it("timeout while awaiting: the SENT SNA attempt settles as pending (60519) and SMS takes over", () => {
    expect(machine.snaTimeout(sna({ snaErrorCodes: null }))).toEqual({
      attemptWas: "SENT",
      attempt: { status: "UNDELIVERED", errorCode: "60519" },
      snaState: "failed",
      snaErrorCodes: "[60519]",
      fallback: { channel: "SMS", attempt: "QUEUED", event: "verification.fallback" },
    });
  });

  it("timeout after a result, a fallback or a final state: nothing", () => {
    expect(machine.snaTimeout(sna({ snaState: "confirmed" }))).toBeNull();
    expect(machine.snaTimeout(sna({ channel: "SMS" }))).toBeNull();
    expect(machine.snaTimeout(sna({ status: "APPROVED" }))).toBeNull();
  });

  it("the error-code list is appended to as JSON text", () => {
    expect(machine.appendSnaError(null, 60519)).toBe("[60519]");
    expect(machine.appendSnaError("[]", 60500)).toBe("[60500]");
    // PostgreSQL's jsonb text (with spaces) reads the same.
    expect(machine.appendSnaError("[60519, 60500]", 60531)).toBe("[60519,60500,60531]");
  });
});

describe("verification machine: deliveries", () => {
  it("a delivery's event is named after the attempt's new status", () => {
    expect(machine.delivered("SENT")).toBe("delivery.sent");
    expect(machine.delivered("DELIVERED")).toBe("delivery.delivered");
    expect(machine.delivered("UNDELIVERED")).toBe("delivery.undelivered");
    expect(machine.delivered("FAILED")).toBe("delivery.failed");
  });

  it("a receipt applies only to an attempt not yet settled", () => {
    expect(machine.RECEIPT_APPLIES).toEqual(["QUEUED", "SENT"]);
  });
});
