import { describe, expect, it } from "vitest";
import { liftBlock } from "../src/domain/policy/fraud.js";
import type { FraudBlock } from "../src/domain/types.js";
import { wantsEvent, webhookDeletion, webhookTry } from "../src/domain/webhook/delivery.js";

describe("webhook delivery transitions", () => {
  const now = 1_000_000;

  it("a delivered try ends the delivery, counted, with its delivery time", () => {
    expect(webhookTry("DELIVERED", now)).toEqual({ status: "DELIVERED", tried: true, deliveredAt: now, rescheduled: false });
  });

  it("a try to retry keeps the delivery pending and reschedules its job", () => {
    expect(webhookTry("RETRY", now)).toEqual({ status: "PENDING", tried: true, deliveredAt: null, rescheduled: true });
  });

  it("a failed try ends the delivery, counted, never delivered", () => {
    expect(webhookTry("FAILED", now)).toEqual({ status: "FAILED", tried: true, deliveredAt: null, rescheduled: false });
  });

  it("a canceled delivery was not tried and ends its job", () => {
    expect(webhookTry("CANCELED", now)).toEqual({ status: "CANCELED", tried: false, deliveredAt: null, rescheduled: false });
  });

  it("deleting a webhook cancels its pending deliveries only", () => {
    expect(webhookDeletion).toEqual({ cancels: "PENDING", to: "CANCELED" });
  });
});

describe("Fraud Guard block lift", () => {
  const block: FraudBlock = { sid: "FB1", serviceSid: "VA1", prefix: "+3361234", reason: "velocity", severity: 0, level: "STANDARD", blockedUntil: 2_000, dateCreated: 1_000, liftedAt: null };

  it("a block in force ends now, marked as lifted", () => {
    expect(liftBlock(block, 1_500)).toEqual({ ...block, blockedUntil: 1_500, liftedAt: 1_500 });
  });

  it("a block already over is left as it is", () => {
    expect(liftBlock(block, 2_000)).toBeNull();
    expect(liftBlock(block, 3_000)).toBeNull();
  });

  it("a block lifted before is over: lifting again changes nothing", () => {
    const lifted = liftBlock(block, 1_200) as FraudBlock;
    expect(liftBlock(lifted, 1_200)).toBeNull();
    expect(liftBlock(lifted, 1_300)).toBeNull();
  });
});

describe("which webhook wants an event", () => {
  it("exact names, one family with .*, and * for all", () => {
    expect(wantsEvent(["verification.approved"], "verification.approved")).toBe(true);
    expect(wantsEvent(["verification.approved"], "verification.canceled")).toBe(false);
    expect(wantsEvent(["verification.*"], "verification.canceled")).toBe(true);
    expect(wantsEvent(["verification.*"], "delivery.sent")).toBe(false);
    expect(wantsEvent(["verification.*"], "verificationx.started")).toBe(false);
    expect(wantsEvent(["*"], "fraud_guard.blocked")).toBe(true);
    expect(wantsEvent([], "delivery.sent")).toBe(false);
  });
});
