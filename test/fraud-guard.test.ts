import { afterEach, describe, expect, it } from "vitest";
import { ManualClock } from "../src/domain/clock.js";
import { CHECK, OUTBOX, START, type TestGateway, errorCode, startGateway } from "./support/gateway.js";

// Fraud Guard judges each destination prefix by our own traffic; the clock is moved, never slept on.

let gw: TestGateway | undefined;
afterEach(async () => {
  await gw?.close();
  gw = undefined;
});

async function setup(fraudGuard: string) {
  const clock = new ManualClock(Date.now());
  gw = await startGateway({ clock });
  const created = await gw.gql(`mutation($input: CreateServiceInput!) { createService(input: $input) { sid } }`, { input: { friendlyName: "Shop", fraudGuard } });
  return { clock, g: gw, serviceSid: created.data!.createService.sid as string };
}

const pumped = (i: number) => `+92300123${String(i).padStart(4, "0")}`;
/** Real users: each in a prefix of its own (US, FR, DE ranges). */
const user = (i: number) => [`+1415${200 + (i % 700)}${String(i).padStart(4, "0").slice(-4)}`, `+336${String(10_000_000 + i * 7919).slice(-8)}`, `+49151${String(10_000_000 + i * 104_729).slice(-8)}`][i % 3];

describe("Fraud Guard", () => {
  it("replayed pumping burst mixed with normal traffic: the burst's prefix is blocked, real users go through", async () => {
    const { clock, g, serviceSid } = await setup("STANDARD");
    const start = (to: string, extra: Record<string, unknown> = {}) => g.gql(START, { input: { serviceSid, to, channel: "SMS", ...extra } });
    let burst = 0;
    const burstOutcomes: { ok: boolean; code?: string; retryAfterSeconds?: number }[] = [];
    const userOutcomes: (string | undefined)[] = [];
    let approved = 0;
    for (let minute = 0; minute < 30; minute++) {
      for (let step = 0; step < 6; step++) {
        clock.advance(10_000);
        // Four real users a minute; three of four type their code back.
        if (step < 4) {
          const i = minute * 4 + step;
          const to = user(i);
          const started = await start(to);
          userOutcomes.push(errorCode(started));
          if (!started.errors && i % 4 !== 3) {
            await g.app.dispatcher.idle();
            const code = (await g.gql(OUTBOX, { to })).data!.devOutbox[0].code;
            const checked = await g.gql(CHECK, { input: { serviceSid, to, code } });
            if (checked.data?.checkVerification.verification.status === "APPROVED") approved++;
          }
        }
        // Minutes 5 to 10: a pumping script, five numbers of one range every 10 s, nobody answers.
        if (minute >= 5 && minute < 11) {
          for (let k = 0; k < 5; k++) {
            const r = await start(pumped(burst++));
            burstOutcomes.push({ ok: !r.errors, code: errorCode(r), retryAfterSeconds: r.errors?.[0]?.extensions?.retryAfterSeconds });
          }
        }
      }
    }
    expect(userOutcomes).toHaveLength(120);
    expect(userOutcomes.filter((c) => c !== undefined)).toEqual([]);
    expect(approved).toBe(90);
    const passed = burstOutcomes.filter((o) => o.ok).length;
    expect(burstOutcomes).toHaveLength(180);
    // STANDARD: at most a burst of 20 reaches the carrier before the prefix is blocked.
    expect(passed).toBeGreaterThan(0);
    expect(passed).toBeLessThanOrEqual(20);
    for (const refusal of burstOutcomes.filter((o) => !o.ok)) {
      expect(refusal.code).toBe("FRAUD_BLOCKED");
      expect(refusal.retryAfterSeconds).toBeGreaterThanOrEqual(1);
      expect(refusal.retryAfterSeconds).toBeLessThanOrEqual(12 * 3600);
    }

    // Every block is an event with its reason.
    const events = await g.sql<{ type: string; data: string }>("select type, data from events where service_sid = ? and type like 'fraud_guard.%'", [serviceSid]);
    expect(events.length).toBeGreaterThanOrEqual(1);
    const first = JSON.parse(events[0].data);
    expect(first).toMatchObject({ prefix: "+92300123", level: "STANDARD", serviceSid });
    expect(["velocity", "low_conversion"]).toContain(first.reason);
    expect(first.detail).toEqual(expect.any(String));
    // A user in another range of the same country is not affected; the blocked range is, until it ends.
    expect((await start("+923331234567")).errors).toBeUndefined();
    const blocked = await start(pumped(9000));
    expect(errorCode(blocked)).toBe("FRAUD_BLOCKED");
    expect(blocked.errors?.[0].extensions).toMatchObject({ twilioCode: 60410 });
    // Overrides: another channel, riskCheck DISABLE, the safe list.
    expect((await start(pumped(9001), { channel: "CALL" })).errors).toBeUndefined();
    expect((await start(pumped(9002), { riskCheck: "DISABLE" })).errors).toBeUndefined();
    await g.gql(`mutation($input: UpdateServiceInput!) { updateService(input: $input) { sid } }`, { input: { sid: serviceSid, safeList: [pumped(9003)] } });
    expect((await start(pumped(9003))).errors).toBeUndefined();

    const list = await g.gql(`query($s: ID!) { fraudBlocks(serviceSid: $s, active: true) { nodes { sid prefix reason severity level blockedUntil } } }`, { s: serviceSid });
    expect(list.data?.fraudBlocks.nodes).toHaveLength(1);
    expect(list.data?.fraudBlocks.nodes[0]).toMatchObject({ prefix: "+92300123", level: "STANDARD" });
    const metrics = await (await fetch(`${g.url}/metrics`)).text();
    expect(metrics).toMatch(/verigate_blocks_total\{reason="fraud_guard"\} [1-9]/);
    expect(metrics).toMatch(/verigate_fraud_guard_blocks_total\{detection="(velocity|low_conversion)"\} [1-9]/);
  });

  it("a block lasts 5 minutes at first and longer for a repeat offender; liftFraudBlock ends one", async () => {
    const { clock, g, serviceSid } = await setup("MAX");
    const start = (to: string) => g.gql(START, { input: { serviceSid, to, channel: "SMS" } });
    let i = 0;
    let first: any;
    while (!first) {
      clock.advance(1000);
      const r = await start(pumped(i++));
      if (r.errors) first = r.errors[0].extensions;
    }
    expect(first.code).toBe("FRAUD_BLOCKED");
    expect(i - 1).toBe(10);
    expect(first.retryAfterSeconds).toBe(300);
    clock.advance(301_000);
    const again = await start(pumped(i++));
    expect(errorCode(again)).toBe("FRAUD_BLOCKED");
    const second = again.errors![0].extensions!.retryAfterSeconds;
    expect(second).toBe(600);

    const blocks = await g.gql(`query($s: ID!) { fraudBlocks(serviceSid: $s) { nodes { sid severity } } }`, { s: serviceSid });
    expect(blocks.data?.fraudBlocks.nodes.map((b: { severity: number }) => b.severity)).toEqual([1, 0]);
    const lifted = await g.gql(`mutation($sid: ID!) { liftFraudBlock(sid: $sid) { sid blockedUntil } }`, { sid: blocks.data?.fraudBlocks.nodes[0].sid });
    expect(new Date(lifted.data?.liftFraudBlock.blockedUntil).getTime()).toBe(clock.now());
    const active = await g.gql(`query($s: ID!) { fraudBlocks(serviceSid: $s, active: true) { nodes { sid } } }`, { s: serviceSid });
    expect(active.data?.fraudBlocks.nodes).toEqual([]);
    const unknown = await g.gql(`mutation { liftFraudBlock(sid: "FB${"0".repeat(32)}") { sid } }`);
    expect(errorCode(unknown)).toBe("NOT_FOUND");
  });

  it("after liftFraudBlock the prefix is judged afresh: the next start goes through, and a later burst blocks at the base duration", async () => {
    const { clock, g, serviceSid } = await setup("MAX");
    const start = (to: string) => g.gql(START, { input: { serviceSid, to, channel: "SMS" } });
    let i = 0;
    let blocked: Record<string, any> | undefined;
    while (!blocked) {
      clock.advance(1000);
      const r = await start(pumped(i++));
      if (r.errors) blocked = r.errors[0].extensions;
    }
    expect(blocked.retryAfterSeconds).toBe(300);
    const [block] = (await g.gql(`query($s: ID!) { fraudBlocks(serviceSid: $s, active: true) { nodes { sid } } }`, { s: serviceSid })).data?.fraudBlocks.nodes;
    expect((await g.gql(`mutation($sid: ID!) { liftFraudBlock(sid: $sid) { sid } }`, { sid: block.sid })).errors).toBeUndefined();

    // The burst before the lift was judged already: it neither blocks again nor makes the prefix a repeat offender.
    clock.advance(1000);
    expect((await start(pumped(i++))).errors).toBeUndefined();
    let passedAfterLift = 1;
    let again: Record<string, any> | undefined;
    while (!again) {
      clock.advance(1000);
      const r = await start(pumped(i++));
      if (r.errors) again = r.errors[0].extensions;
      else passedAfterLift++;
    }
    expect(passedAfterLift).toBe(10);
    expect(again).toMatchObject({ code: "FRAUD_BLOCKED", retryAfterSeconds: 300 });
  });

  it("low conversion: a range whose matured verifications are not completed is blocked; a range that converts is not", async () => {
    const { clock, g, serviceSid } = await setup("MAX");
    const start = (to: string) => g.gql(START, { input: { serviceSid, to, channel: "SMS" } });
    const good = (k: number) => `+33612${String(340_000 + k)}`;
    for (let k = 0; k < 6; k++) {
      clock.advance(60_000);
      expect((await start(pumped(k))).errors).toBeUndefined();
      expect((await start(good(k))).errors).toBeUndefined();
      await g.app.dispatcher.idle();
      const code = (await g.gql(OUTBOX, { to: good(k) })).data!.devOutbox[0].code;
      expect((await g.gql(CHECK, { input: { serviceSid, to: good(k), code } })).data?.checkVerification.verification.status).toBe("APPROVED");
    }
    clock.advance(3 * 60_000);
    const refused = await start(pumped(100));
    expect(errorCode(refused)).toBe("FRAUD_BLOCKED");
    expect((await start(good(100))).errors).toBeUndefined();
    const [event] = await g.sql<{ data: string }>("select data from events where service_sid = ? and type = 'fraud_guard.blocked'", [serviceSid]);
    expect(JSON.parse(event.data)).toMatchObject({ reason: "low_conversion", prefix: "+92300123" });
  });

  it("OFF disables it; test numbers never count or get blocked", async () => {
    const { clock, g, serviceSid } = await setup("OFF");
    for (let k = 0; k < 60; k++) {
      clock.advance(500);
      expect((await g.gql(START, { input: { serviceSid, to: pumped(k), channel: "SMS" } })).errors).toBeUndefined();
    }
    const strict = await g.gql(`mutation($input: CreateServiceInput!) { createService(input: $input) { sid } }`, {
      input: { friendlyName: "Strict", fraudGuard: "MAX", testNumbers: Array.from({ length: 15 }, (_, k) => ({ to: pumped(k), code: "0000" })) },
    });
    const strictSid = strict.data!.createService.sid;
    for (let k = 0; k < 15; k++) expect((await g.gql(START, { input: { serviceSid: strictSid, to: pumped(k), channel: "SMS" } })).errors).toBeUndefined();
    expect(await g.sql("select sid from fraud_blocks")).toEqual([]);
    // Test-mode verifications are not the range's history: a real number there starts cleanly.
    expect((await g.gql(START, { input: { serviceSid: strictSid, to: pumped(500), channel: "SMS" } })).errors).toBeUndefined();
  });
});
