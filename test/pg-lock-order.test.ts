import { afterEach, describe, expect, it } from "vitest";
import { ManualClock } from "../src/domain/clock.js";
import { newSid } from "../src/domain/ids.js";
import { type TestGateway, startGateway } from "./support/gateway.js";

// Two PostgreSQL transactions that lock the same two rows in opposite orders deadlock, and one of them
// fails (an operator's 500, or a courier's crashed job). Each case here plays the other party by hand on
// the test's own connection: it holds the row that party locks first, lets the store's unit run into
// it, then takes the second row, as that party would. In one order the store's unit waits at the first
// row and the hand-played party goes on; in the wrong order the hand-played party waits, and gives up
// after 300 ms (lock_timeout, before PostgreSQL's 1 s deadlock check, whose victim the runner would retry).
const onPg = process.env.VERIGATE_TEST_STORE === "pg";
let gw: TestGateway | undefined;
afterEach(async () => {
  await gw?.close();
  gw = undefined;
});

const settle = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Runs `second` inside a transaction that already holds `first`'s lock while `unit` runs into it. */
async function interleave(g: TestGateway, first: [string, unknown[]], unit: () => Promise<unknown>, second: [string, unknown[]]) {
  await g.sql("begin");
  await g.sql("set local lock_timeout = '300ms'");
  await g.sql(...first);
  const running = unit().then(
    (value) => ({ value, error: null as unknown }),
    (error: unknown) => ({ value: null, error }),
  );
  await settle(300); // the unit is now waiting on the row the test holds (or holding one it should not)
  const second_ = await g.sql(...second).then(
    () => null,
    (error: Error) => error.message,
  );
  await g.sql(second_ ? "rollback" : "commit");
  const outcome = await running;
  return { secondRefused: second_, unitError: outcome.error instanceof Error ? outcome.error.message : outcome.error };
}

describe.skipIf(!onPg)("row locks on PostgreSQL", () => {
  it("an SNA timeout locks the verification before its job, as a carrier answer does", async () => {
    const clock = new ManualClock(Date.now());
    gw = await startGateway({ clock, env: { SNA_SANDBOX_COVERAGE: "100.64.0.0/10", SNA_FALLBACK_SECONDS: "20" } });
    const started = await gw.gql(`mutation($input: StartVerificationInput!) { startVerification(input: $input) { verification { sid channel } } }`, {
      input: { serviceSid: gw.defaultServiceSid, to: "+14155550181", channel: "AUTO", deviceIp: "100.64.1.81" },
    });
    const v = started.data?.startVerification.verification;
    expect(v.channel).toBe("SNA");
    const [job] = await gw.sql<{ id: number }>("select id from outbox where kind = 'sna_fallback' and ref_sid = ?", [v.sid]);
    expect(job).toBeDefined();
    const app = gw.app;
    // recordSnaResult: the verification (FOR UPDATE), then the fallback job.
    const result = await interleave(
      gw,
      ["select sid from verifications where sid = ? for update", [v.sid]],
      () => app.store.snaTimedOut(Number(job.id), v.sid, newSid("VL"), clock.now()),
      ["delete from outbox where id = ?", [job.id]],
    );
    expect(result).toEqual({ secondRefused: null, unitError: null });
  });

  it("deleting a service locks a webhook delivery before its job, as the courier recording a try does", async () => {
    // No courier on this instance: the test plays it.
    gw = await startGateway({ env: { OUTBOX_RUNNER: "off" } });
    const g = gw;
    const hook = await g.gql(`mutation($s: ID!) { createWebhook(input: { serviceSid: $s, url: "http://127.0.0.1:9/hook", eventTypes: ["verification.approved"], }) { webhook { sid } } }`, {
      s: g.defaultServiceSid,
    });
    expect(hook.errors?.[0]?.message).toBeUndefined();
    const tested = await g.gql(`mutation($sid: ID!) { testWebhook(sid: $sid) { id } }`, { sid: hook.data?.createWebhook.webhook.sid });
    expect(tested.errors?.[0]?.message).toBeUndefined();
    const [delivery] = await g.sql<{ seq: number; job: number }>(
      "select d.seq, o.id as job from webhook_deliveries d join outbox o on o.kind = 'webhook' and o.ref_sid = cast(d.seq as text) where d.service_sid = ?",
      [g.defaultServiceSid],
    );
    expect(delivery).toBeDefined();
    // recordWebhookAttempt: the delivery row, then its job.
    const result = await interleave(
      g,
      ["update webhook_deliveries set attempts = attempts + 1 where seq = ?", [delivery.seq]],
      () => g.app.gateway.services.delete(g.defaultServiceSid),
      ["update outbox set last_error = 'try' where id = ?", [delivery.job]],
    );
    expect(result).toEqual({ secondRefused: null, unitError: null });
    expect(await g.sql("select seq from webhook_deliveries where seq = ?", [delivery.seq])).toEqual([]);
  });
  it("deleting a service locks its webhooks before their deliveries, as deleting a webhook does", async () => {
    gw = await startGateway({ env: { OUTBOX_RUNNER: "off" } });
    const g = gw;
    const hook = await g.gql(`mutation($s: ID!) { createWebhook(input: { serviceSid: $s, url: "http://127.0.0.1:9/hook", eventTypes: ["verification.approved"] }) { webhook { sid } } }`, {
      s: g.defaultServiceSid,
    });
    const webhookSid = hook.data?.createWebhook.webhook.sid as string;
    expect((await g.gql(`mutation($sid: ID!) { testWebhook(sid: $sid) { id } }`, { sid: webhookSid })).errors).toBeUndefined();
    // deleteWebhook: the webhook row, then its PENDING deliveries.
    const result = await interleave(
      g,
      ["delete from webhooks where sid = ?", [webhookSid]],
      () => g.app.gateway.services.delete(g.defaultServiceSid),
      ["update webhook_deliveries set status = 'CANCELED' where webhook_sid = ? and status = 'PENDING'", [webhookSid]],
    );
    expect(result).toEqual({ secondRefused: null, unitError: null });
    expect(await g.sql("select seq from webhook_deliveries where webhook_sid = ?", [webhookSid])).toEqual([]);
  });
  it("an attempt's event, written after waiting for its verification, shows the other attempts as they are now", async () => {
    gw = await startGateway({ env: { OUTBOX_RUNNER: "off" } });
    const g = gw;
    const START = `mutation($input: StartVerificationInput!) { startVerification(input: $input) { verification { sid } } }`;
    const input = { serviceSid: g.defaultServiceSid, to: "+14155550182", channel: "SMS" };
    const sid = (await g.gql(START, { input })).data?.startVerification.verification.sid as string;
    expect((await g.gql(START, { input })).errors).toBeUndefined(); // a resend: a second attempt
    const [first, second] = await g.sql<{ sid: string }>("select sid from send_attempts where verification_sid = ? order by seq", [sid]);
    await g.sql("update send_attempts set status = 'SENT', provider_message_id = 'pm-race' where sid = ?", [first.sid]);
    // Another unit: the second attempt fails, with the verification's version (locked until it commits).
    await g.sql("begin");
    await g.sql("update send_attempts set status = 'UNDELIVERED' where sid = ?", [second.sid]);
    await g.sql("update verifications set version = version + 1 where sid = ?", [sid]);
    const receipt = g.app.store.recordReceipt({ providerMessageId: "pm-race", status: "DELIVERED", errorCode: null, now: Date.now() });
    await settle(300); // the receipt has written its attempt and waits for the verification
    await g.sql("commit");
    const event = await receipt;
    const attempts = (event?.data as { sendCodeAttempts: { attemptSid: string; status: string }[] }).sendCodeAttempts;
    expect(attempts.map((a) => a.status)).toEqual(["DELIVERED", "UNDELIVERED"]);
  });
  it("an attempt's change locks its verification only, not the verification's other attempts (each locked by its own change first)", async () => {
    gw = await startGateway({ env: { OUTBOX_RUNNER: "off" } });
    const g = gw;
    const START = `mutation($input: StartVerificationInput!) { startVerification(input: $input) { verification { sid } } }`;
    const input = { serviceSid: g.defaultServiceSid, to: "+14155550183", channel: "SMS" };
    const sid = (await g.gql(START, { input })).data?.startVerification.verification.sid as string;
    expect((await g.gql(START, { input })).errors).toBeUndefined(); // a resend: a second attempt
    const [first, second] = await g.sql<{ sid: string }>("select sid from send_attempts where verification_sid = ? order by seq", [sid]);
    await g.sql("update send_attempts set status = 'SENT', provider_message_id = 'pm-pair' where sid = ?", [first.sid]);
    // The other unit: the second attempt's send is recorded (its attempt, then its verification).
    const result = await interleave(
      g,
      ["update send_attempts set status = 'SENT' where sid = ?", [second.sid]],
      () => g.app.store.recordReceipt({ providerMessageId: "pm-pair", status: "DELIVERED", errorCode: null, now: Date.now() }),
      ["update verifications set version = version + 1 where sid = ?", [sid]],
    );
    expect(result).toEqual({ secondRefused: null, unitError: null });
  });
  it("deleting a service locks its entities before their factors, as creating a factor and deleteEntity do", async () => {
    gw = await startGateway({ env: { OUTBOX_RUNNER: "off" } });
    const g = gw;
    const created = await g.gql(`mutation($input: CreateFactorInput!) { createFactor(input: $input) { factor { sid } } }`, {
      input: { serviceSid: g.defaultServiceSid, identity: "lock-order", friendlyName: "phone", factorType: "TOTP" },
    });
    const factorSid = created.data?.createFactor.factor.sid as string;
    expect(factorSid).toMatch(/^YF/);
    // createFactor / deleteEntity: the entity row, then the factors.
    const result = await interleave(
      g,
      ["select sid from entities where service_sid = ? and identity = 'lock-order' for update", [g.defaultServiceSid]],
      () => g.app.gateway.services.delete(g.defaultServiceSid),
      ["update factors set friendly_name = 'renamed' where sid = ?", [factorSid]],
    );
    expect(result).toEqual({ secondRefused: null, unitError: null });
    expect(await g.sql("select sid from factors where sid = ?", [factorSid])).toEqual([]);
  });
});
