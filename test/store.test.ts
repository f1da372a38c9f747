import { afterEach, describe, expect, it } from "vitest";
import { newSid } from "../src/domain/ids.js";
import type { StartPlan } from "../src/store/port.js";
import { type TestGateway, startGateway } from "./support/gateway.js";

let gw: TestGateway | undefined;
afterEach(async () => {
  await gw?.close();
  gw = undefined;
});

function plan(serviceSid: string, n: number, attemptSid = newSid("VL")): StartPlan {
  const now = Date.now();
  return {
    serviceSid,
    to: `+1415555${String(1000 + n)}`,
    channel: "SMS",
    attemptChannel: "SMS",
    attemptSid,
    now,
    sendWindowStart: now - 600_000,
    maxSendAttempts: 5,
    sna: null,
    resends: () => true,
    fresh: {
      sid: newSid("VE"),
      codeHash: "k:hash",
      codeSealed: "sealed",
      codeLength: 6,
      maxCheckAttempts: 5,
      amount: null,
      payee: null,
      locale: null,
      customFriendlyName: null,
      lookup: null,
      tags: null,
      expiresAt: now + 600_000,
      country: "US",
      prefix: null,
      testMode: false,
    },
  };
}

const count = async (query: string, params: unknown[]) => Number((await gw!.sql<{ n: number }>(query, params))[0].n);

describe("store writes", () => {
  // The embedded store commits the writes of one event-loop turn together (group commit); each must
  // still succeed or fail on its own, and a failure must leave nothing of itself behind.
  it("writes asked for at once each commit or fail alone; a failed one leaves none of its rows", async () => {
    gw = await startGateway();
    const { store } = gw.app;
    const service = gw.defaultServiceSid;
    const plans = Array.from({ length: 20 }, (_, n) => plan(service, n));
    // The 21st reuses an attempt sid: its verification row is inserted, then its attempt row fails.
    const clash = plan(service, 20, plans[3].attemptSid);
    const all = [...plans.slice(0, 10), clash, ...plans.slice(10)];
    const outcomes = await Promise.allSettled(all.map((p) => store.startVerification(p)));

    // Exactly one of the two writes that share an attempt sid fails (the embedded store runs them in
    // order; PostgreSQL's concurrent transactions may let either commit first), and it leaves nothing.
    expect(outcomes.filter((o) => o.status === "fulfilled")).toHaveLength(20);
    const failed = outcomes.findIndex((o) => o.status === "rejected");
    expect([3, 10]).toContain(failed);
    expect(await count("select count(*) as n from verifications where service_sid = ?", [service])).toBe(20);
    expect(await count("select count(*) as n from verifications where sid = ?", [all[failed].fresh.sid])).toBe(0);
    expect(await count("select count(*) as n from verifications where sid = ?", [all[failed === 3 ? 10 : 3].fresh.sid])).toBe(1);
    expect(await count("select count(*) as n from events where type = 'verification.started' and service_sid = ?", [service])).toBe(20);
    expect(await count("select count(*) as n from send_attempts where service_sid = ?", [service])).toBe(20);
    // And each caller got its own answer.
    for (const [i, o] of outcomes.entries()) {
      if (i === failed) continue;
      expect(o.status === "fulfilled" && o.value.ok && o.value.verification.to).toBe(all[i].to);
    }
  });

  it("a check whose judge throws fails alone among checks running at once", async () => {
    gw = await startGateway();
    const { store } = gw.app;
    const service = gw.defaultServiceSid;
    const plans = Array.from({ length: 6 }, (_, n) => plan(service, 100 + n));
    for (const p of plans) await store.startVerification(p);
    const now = Date.now();
    const checks = plans.map((p, i) =>
      store.checkVerification({ serviceSid: service, sid: p.fresh.sid, to: null, now, acceptApprovedSna: false }, () => {
        if (i === 2) throw new Error("judge failed");
        return i % 2 === 0;
      }),
    );
    const outcomes = await Promise.allSettled(checks);
    expect(outcomes.map((o) => o.status)).toEqual(["fulfilled", "fulfilled", "rejected", "fulfilled", "fulfilled", "fulfilled"]);
    const statuses = await gw.sql<{ sid: string; status: string; check_attempts: number }>(
      `select sid, status, check_attempts from verifications where service_sid = ? order by sid`,
      [service],
    );
    const bySid = new Map(statuses.map((r) => [r.sid, r]));
    expect(plans.map((p) => bySid.get(p.fresh.sid)?.status)).toEqual(["APPROVED", "PENDING", "PENDING", "PENDING", "APPROVED", "PENDING"]);
    // The failed check counted no attempt.
    expect(Number(bySid.get(plans[2].fresh.sid)?.check_attempts)).toBe(0);
    expect(Number(bySid.get(plans[1].fresh.sid)?.check_attempts)).toBe(1);
  });
});
