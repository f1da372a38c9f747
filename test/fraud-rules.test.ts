import { describe, expect, it } from "vitest";
import { type PrefixTraffic, blockStanding, destinationPrefix, fraudWindows, judgeTraffic } from "../src/domain/policy/fraud.js";
import type { FraudBlock } from "../src/domain/types.js";

const quiet: PrefixTraffic = { recent: 0, recentApproved: 0, matured: 0, maturedApproved: 0, history: 0, historyApproved: 0, priorBlocks: 0 };

describe("Fraud Guard's judgement of a prefix", () => {
  it("a prefix is the number without its last four digits, never shorter than the country code and two digits", () => {
    expect(destinationPrefix("+14155552671", "1")).toBe("+1415555");
    expect(destinationPrefix("+923001234567", "92")).toBe("+92300123");
    expect(destinationPrefix("+3225123456", "32")).toBe("+322512");
    expect(destinationPrefix("+2901234", "290")).toBe("+29012");
  });

  it("OFF never blocks; quiet or converting traffic is never blocked", () => {
    expect(judgeTraffic("OFF", { ...quiet, recent: 10_000 })).toBeNull();
    expect(judgeTraffic("MAX", quiet)).toBeNull();
    expect(judgeTraffic("MAX", { ...quiet, recent: 500, recentApproved: 400, matured: 300, maturedApproved: 250 })).toBeNull();
  });

  it("velocity: a burst at the level's threshold, far above the prefix's usual rate, mostly unconverted", () => {
    expect(judgeTraffic("BASIC", { ...quiet, recent: 39 })).toBeNull();
    expect(judgeTraffic("BASIC", { ...quiet, recent: 40 })).toMatchObject({ reason: "velocity", severity: 0, durationMs: 5 * 60_000 });
    expect(judgeTraffic("STANDARD", { ...quiet, recent: 20 })).toMatchObject({ reason: "velocity" });
    // A prefix that always sees about this much traffic (168 hours of 40) is not bursting.
    expect(judgeTraffic("BASIC", { ...quiet, recent: 40, history: 40 * 168, historyApproved: 30 * 168 })).toBeNull();
  });

  it("low conversion: judged on matured starts, relative to the prefix's history", () => {
    expect(judgeTraffic("STANDARD", { ...quiet, recent: 12, matured: 10, maturedApproved: 2 })).toMatchObject({ reason: "low_conversion" });
    expect(judgeTraffic("STANDARD", { ...quiet, recent: 12, matured: 10, maturedApproved: 3 })).toBeNull();
    // A prefix that has always converted this poorly is not flagged for it.
    expect(judgeTraffic("STANDARD", { ...quiet, recent: 12, matured: 10, maturedApproved: 2, history: 100, historyApproved: 20 })).toBeNull();
    expect(judgeTraffic("STANDARD", { ...quiet, recent: 12, matured: 10, maturedApproved: 1, history: 100, historyApproved: 40 })).toMatchObject({ reason: "low_conversion" });
  });

  it("the block grows with severity and repeat offences, from 5 minutes to at most 12 hours", () => {
    expect(judgeTraffic("MAX", { ...quiet, recent: 20 })).toMatchObject({ severity: 1, durationMs: 10 * 60_000 });
    expect(judgeTraffic("MAX", { ...quiet, recent: 40, priorBlocks: 1 })).toMatchObject({ severity: 3, durationMs: 40 * 60_000 });
    expect(judgeTraffic("MAX", { ...quiet, recent: 10_000, priorBlocks: 5 })).toMatchObject({ durationMs: 12 * 60 * 60_000 });
  });

  it("a lifted block is no offence and ends the judged window; a block that ran its course counts and leaves the window alone", () => {
    const now = 100 * fraudWindows.priorBlocksMs;
    const block = (o: Partial<FraudBlock>): FraudBlock => ({ sid: "FB1", serviceSid: "VA1", prefix: "+1415555", reason: "velocity", severity: 0, level: "MAX", blockedUntil: now + 60_000, dateCreated: now - 60_000, liftedAt: null, ...o });
    expect(blockStanding([block({})], now)).toMatchObject({ active: { sid: "FB1" }, priorBlocks: 1, recentStart: now - fraudWindows.windowMs });
    const lifted = block({ blockedUntil: now - 10_000, liftedAt: now - 10_000 });
    expect(blockStanding([lifted], now)).toEqual({ active: null, priorBlocks: 0, recentStart: now - 10_000 });
    const expired = block({ blockedUntil: now - 10_000, dateCreated: now - 310_000 });
    expect(blockStanding([expired], now)).toEqual({ active: null, priorBlocks: 1, recentStart: now - fraudWindows.windowMs });
    // A lift older than the window moves nothing.
    expect(blockStanding([block({ blockedUntil: now - 2 * fraudWindows.windowMs, liftedAt: now - 2 * fraudWindows.windowMs })], now).recentStart).toBe(now - fraudWindows.windowMs);
  });
});
