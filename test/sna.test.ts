import { afterEach, describe, expect, it } from "vitest";
import { ManualClock } from "../src/domain/clock.js";
import { CHECK, OUTBOX, type TestGateway, errorCode, startGateway, subscribeWs } from "./support/gateway.js";

let gw: TestGateway | undefined;
afterEach(async () => {
  await gw?.close();
  gw = undefined;
});

const SNA_START = /* GraphQL */ `
  mutation Start($input: StartVerificationInput!) {
    startVerification(input: $input) { verification { sid channel status sna { url } snaAttemptsErrorCodes sendCodeAttempts { channel status errorCode } } }
  }
`;
const SNA_CHECK = /* GraphQL */ `
  mutation Check($input: CheckVerificationInput!) { checkVerification(input: $input) { verification { status valid channel snaAttemptsErrorCodes } } }
`;
const READ = `query($sid: ID!) { verification(sid: $sid) { status channel snaAttemptsErrorCodes sendCodeAttempts { channel status errorCode } } }`;

/** The device opens the URL; in the sandbox a test header says which number owns the data session. */
const openUrl = async (url: string, msisdn?: string) => {
  const response = await fetch(url, { headers: msisdn ? { "Verigate-Sandbox-Msisdn": msisdn } : {} });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
};

async function startSna(input: Record<string, unknown>) {
  const started = await gw!.gql(SNA_START, { input: { serviceSid: gw!.defaultServiceSid, channel: "SNA", ...input } });
  if (started.errors) throw new Error(JSON.stringify(started.errors));
  return started.data!.startVerification.verification;
}

describe("Silent Network Auth", () => {
  it("match: opening the URL proves the number; subscribers see APPROVED at once and a check without a code answers APPROVED", async () => {
    gw = await startGateway();
    const v = await startSna({ to: "+14155550101" });
    expect(v).toMatchObject({ channel: "SNA", status: "PENDING", snaAttemptsErrorCodes: [], sendCodeAttempts: [{ channel: "SNA", status: "SENT" }] });
    expect(v.sna.url).toMatch(new RegExp(`^${gw.url}/sna/[A-Za-z0-9_-]{32}$`));
    const updates = subscribeWs(gw.wsClient(), `subscription($sid: ID!) { verificationUpdated(sid: $sid) { status } }`, { sid: v.sid });
    await updates.waitFor(1);

    expect(await openUrl(v.sna.url, "+14155550101")).toEqual({ status: 200, body: { status: "verified" } });
    await updates.done;
    expect(updates.values.map((u) => u.verificationUpdated.status)).toEqual(["PENDING", "APPROVED"]);
    const checked = await gw.gql(SNA_CHECK, { input: { serviceSid: gw.defaultServiceSid, to: "+14155550101" } });
    expect(checked.data?.checkVerification.verification).toMatchObject({ status: "APPROVED", valid: true, snaAttemptsErrorCodes: [] });
    expect((await gw.gql(READ, { sid: v.sid })).data?.verification.sendCodeAttempts).toEqual([{ channel: "SNA", status: "DELIVERED", errorCode: null }]);
    // No message was sent.
    expect((await gw.gql(OUTBOX, { to: "+14155550101" })).data?.devOutbox).toEqual([]);
  });

  it("the carrier's approval cannot be replayed once the verification has expired", async () => {
    const clock = new ManualClock(Date.now());
    await gw?.close();
    gw = await startGateway({ clock });
    const v = await startSna({ to: "+14155550112" });
    await openUrl(v.sna.url, "+14155550112");
    expect((await gw.gql(SNA_CHECK, { input: { serviceSid: gw.defaultServiceSid, to: "+14155550112" } })).data?.checkVerification.verification.status).toBe("APPROVED");
    clock.advance(600_001);
    expect(errorCode(await gw.gql(SNA_CHECK, { input: { serviceSid: gw.defaultServiceSid, to: "+14155550112" } }))).toBe("VERIFICATION_ALREADY_APPROVED");
  });

  it("mismatch: another number's session leaves it PENDING with 60500", async () => {
    gw = await startGateway();
    const v = await startSna({ to: "+14155550102" });
    expect(await openUrl(v.sna.url, "+14155550999")).toEqual({ status: 200, body: { status: "failed", errorCode: 60500 } });
    const checked = await gw.gql(SNA_CHECK, { input: { serviceSid: gw.defaultServiceSid, to: "+14155550102" } });
    expect(checked.data?.checkVerification.verification).toMatchObject({ status: "PENDING", valid: false, snaAttemptsErrorCodes: [60500] });
    expect((await gw.gql(READ, { sid: v.sid })).data?.verification.sendCodeAttempts[0]).toEqual({ channel: "SNA", status: "UNDELIVERED", errorCode: "60500" });
  });

  it("the source address range decides the number when no test header is sent", async () => {
    gw = await startGateway({ env: { SNA_SANDBOX_RULES: "127.0.0.0/8=+14155550103" } });
    const v = await startSna({ to: "+14155550103" });
    expect((await openUrl(v.sna.url)).body).toEqual({ status: "verified" });
    const other = await startSna({ to: "+14155550104" });
    expect((await openUrl(other.sna.url)).body).toEqual({ status: "failed", errorCode: 60500 });
  });

  it("no carrier for the source address → 60531", async () => {
    gw = await startGateway();
    const v = await startSna({ to: "+14155550105" });
    expect((await openUrl(v.sna.url)).body).toEqual({ status: "failed", errorCode: 60531 });
  });

  it("the URL is single use: a second opening answers 410, and an unknown one 404", async () => {
    gw = await startGateway();
    const v = await startSna({ to: "+14155550106" });
    expect((await openUrl(v.sna.url, "+14155550999")).status).toBe(200);
    expect((await openUrl(v.sna.url, "+14155550106")).status).toBe(410);
    expect((await gw.gql(READ, { sid: v.sid })).data?.verification.status).toBe("PENDING");
    expect((await openUrl(`${gw.url}/sna/${"x".repeat(32)}`, "+14155550106")).status).toBe(404);
  });

  it("an expired URL answers 410 and proves nothing", async () => {
    const clock = new ManualClock(Date.now());
    gw = await startGateway({ clock });
    const v = await startSna({ to: "+14155550107" });
    clock.advance(600_001);
    expect((await openUrl(v.sna.url, "+14155550107")).status).toBe(410);
    expect(errorCode(await gw.gql(SNA_CHECK, { input: { serviceSid: gw.defaultServiceSid, to: "+14155550107" } }))).toBe("VERIFICATION_EXPIRED");
  });

  it("a check before the URL was opened stays PENDING with 60519 (recorded once however often it polls) and counts no attempt", async () => {
    gw = await startGateway();
    const v = await startSna({ to: "+14155550108" });
    for (let i = 0; i < 6; i++) {
      const early = await gw.gql(SNA_CHECK, { input: { serviceSid: gw.defaultServiceSid, to: "+14155550108" } });
      expect(early.data?.checkVerification.verification.status).toBe("PENDING");
    }
    expect((await gw.gql(READ, { sid: v.sid })).data?.verification.snaAttemptsErrorCodes).toEqual([60519]);
    // Six early checks did not lock it: the carrier can still approve.
    expect((await openUrl(v.sna.url, "+14155550108")).body).toEqual({ status: "verified" });
    expect((await gw.gql(READ, { sid: v.sid })).data?.verification.status).toBe("APPROVED");
  });

  it("a code is refused on an SNA verification", async () => {
    gw = await startGateway();
    await startSna({ to: "+14155550109" });
    const r = await gw.gql(SNA_CHECK, { input: { serviceSid: gw.defaultServiceSid, to: "+14155550109", code: "123456" } });
    expect(r.errors?.[0].extensions).toMatchObject({ code: "INVALID_PARAMETER", field: "code" });
  });

  it("with enableSnaClientToken the check must echo the token the URL returned; a wrong one is a failed check", async () => {
    gw = await startGateway();
    const v = await startSna({ to: "+14155550110", enableSnaClientToken: true });
    const opened = await openUrl(v.sna.url, "+14155550110");
    expect(opened.body.status).toBe("verified");
    const token = opened.body.clientToken as string;
    expect(token).toMatch(/^[A-Za-z0-9_-]{32}$/);
    expect((await gw.gql(READ, { sid: v.sid })).data?.verification.status).toBe("PENDING");
    const missing = await gw.gql(SNA_CHECK, { input: { serviceSid: gw.defaultServiceSid, to: "+14155550110" } });
    expect(missing.errors?.[0].extensions).toMatchObject({ code: "INVALID_PARAMETER", field: "snaClientToken" });
    const wrong = await gw.gql(SNA_CHECK, { input: { serviceSid: gw.defaultServiceSid, to: "+14155550110", snaClientToken: "not-the-token" } });
    expect(wrong.data?.checkVerification.verification).toMatchObject({ status: "PENDING", valid: false });
    const right = await gw.gql(SNA_CHECK, { input: { serviceSid: gw.defaultServiceSid, to: "+14155550110", snaClientToken: token } });
    expect(right.data?.checkVerification.verification).toMatchObject({ status: "APPROVED", valid: true });
  });

  it("the URL is handed out once: its token is nowhere in the database, events, webhooks or later reads", async () => {
    gw = await startGateway();
    const hook = await gw.gql(`mutation($s: ID!) { createWebhook(input: { serviceSid: $s, url: "http://127.0.0.1:9/hook", eventTypes: ["*"] }) { webhook { sid } } }`, { s: gw.defaultServiceSid });
    expect(hook.errors).toBeUndefined();
    const v = await startSna({ to: "+14155550113" });
    const token = (v.sna.url as string).split("/").pop() as string;
    expect(token).toHaveLength(32);
    const tables =
      process.env.VERIGATE_TEST_STORE === "pg"
        ? (await gw.sql<{ name: string }>("select table_name as name from information_schema.tables where table_schema = current_schema()")).map((r) => r.name)
        : (await gw.sql<{ name: string }>("select name from sqlite_master where type = 'table'")).map((r) => r.name);
    expect(tables).toContain("events");
    for (const table of tables) expect(JSON.stringify(await gw.sql(`select * from ${table}`)), table).not.toContain(token);
    expect((await gw.gql(`query($sid: ID!) { verification(sid: $sid) { sna { url } } }`, { sid: v.sid })).data?.verification.sna).toBeNull();
    // The URL still works: the store found it by its hash.
    expect((await openUrl(v.sna.url, "+14155550113")).body).toEqual({ status: "verified" });
  });

  it("SNA with PSD2 is refused", async () => {
    gw = await startGateway();
    const service = (await gw.gql(`mutation { createService(input: { friendlyName: "Bank", psd2Enabled: true }) { sid } }`)).data?.createService.sid;
    const r = await gw.gql(SNA_START, { input: { serviceSid: service, to: "+14155550111", channel: "SNA", amount: "1", payee: "x" } });
    expect(r.errors?.[0].extensions).toMatchObject({ code: "INVALID_PARAMETER", field: "channel" });
  });
});

describe("AUTO channel selection", () => {
  const env = { SNA_SANDBOX_COVERAGE: "100.64.0.0/10", SNA_FALLBACK_SECONDS: "20" };

  it("sends SMS at once for an IP the carrier cannot reach, or when no IP is given", async () => {
    gw = await startGateway({ env });
    for (const [to, deviceIp] of [["+14155550120", "203.0.113.7"], ["+14155550121", null]] as const) {
      const v = await startSna({ to, channel: "AUTO", deviceIp });
      expect(v).toMatchObject({ channel: "SMS", sna: null, snaAttemptsErrorCodes: null, sendCodeAttempts: [{ channel: "SMS" }] });
    }
    await gw.app.dispatcher.idle();
    expect((await gw.gql(OUTBOX, { to: "+14155550120" })).data?.devOutbox).toHaveLength(1);
  });

  it("tries SNA for a covered IP and approves without any SMS when the carrier confirms", async () => {
    gw = await startGateway({ env });
    const v = await startSna({ to: "+14155550122", channel: "AUTO", deviceIp: "100.64.1.2" });
    expect(v.channel).toBe("SNA");
    expect((await openUrl(v.sna.url, "+14155550122")).body).toEqual({ status: "verified" });
    await gw.app.dispatcher.idle();
    expect((await gw.gql(OUTBOX, { to: "+14155550122" })).data?.devOutbox).toEqual([]);
    // The timeout that would have fallen back has nothing left to do.
    expect(await gw.app.store.pendingJobCount()).toBe(0);
  });

  it("falls back to SMS in the same verification after an SNA failure; the SMS code approves", async () => {
    gw = await startGateway({ env });
    const v = await startSna({ to: "+14155550123", channel: "AUTO", deviceIp: "100.64.1.3" });
    const updates = subscribeWs(gw.wsClient(), `subscription($sid: ID!) { verificationUpdated(sid: $sid) { channel status } }`, { sid: v.sid });
    await updates.waitFor(1);
    expect((await openUrl(v.sna.url, "+14155550999")).body).toEqual({ status: "failed", errorCode: 60500 });
    await gw.app.dispatcher.idle();
    const read = (await gw.gql(READ, { sid: v.sid })).data?.verification;
    expect(read).toMatchObject({ channel: "SMS", status: "PENDING", snaAttemptsErrorCodes: [60500] });
    expect(read.sendCodeAttempts).toEqual([
      { channel: "SNA", status: "UNDELIVERED", errorCode: "60500" },
      { channel: "SMS", status: "SENT", errorCode: null },
    ]);
    expect(updates.values.some((u) => u.verificationUpdated.channel === "SMS")).toBe(true);
    const code = (await gw.gql(OUTBOX, { to: "+14155550123" })).data?.devOutbox[0].code;
    const checked = await gw.gql(CHECK, { input: { serviceSid: gw.defaultServiceSid, verificationSid: v.sid, code } });
    expect(checked.data?.checkVerification.verification).toMatchObject({ sid: v.sid, status: "APPROVED" });
  });

  it("falls back to SMS when SNA is not completed in time", async () => {
    const clock = new ManualClock(Date.now());
    gw = await startGateway({ clock, env });
    const v = await startSna({ to: "+14155550124", channel: "AUTO", deviceIp: "100.64.1.4" });
    clock.advance(19_000);
    await gw.app.dispatcher.idle();
    expect((await gw.gql(READ, { sid: v.sid })).data?.verification.channel).toBe("SNA");
    clock.advance(1_000);
    await gw.app.dispatcher.idle();
    const read = (await gw.gql(READ, { sid: v.sid })).data?.verification;
    expect(read).toMatchObject({ channel: "SMS", snaAttemptsErrorCodes: [60519] });
    expect(read.sendCodeAttempts.map((a: { channel: string; status: string }) => `${a.channel}:${a.status}`)).toEqual(["SNA:UNDELIVERED", "SMS:SENT"]);
    // The late device finds its URL gone.
    expect((await openUrl(v.sna.url, "+14155550124")).status).toBe(410);
  });

  it("AUTO keeps an SMS-only appHash for its fallback, and a service cannot enable AUTO without SNA", async () => {
    gw = await startGateway({ env });
    const withHash = await startSna({ to: "+14155550126", channel: "AUTO", deviceIp: "100.64.1.6", appHash: "He42w354ol9" });
    expect(withHash.channel).toBe("SNA");
    const onlySms = (await gw.gql(`mutation { createService(input: { friendlyName: "Sms only" }) { sid } }`)).data?.createService.sid;
    // AUTO needs SNA and SMS enabled; with SNA off the service cannot enable AUTO at all.
    const refused = await gw.gql(`mutation($s: ID!) { updateService(input: { sid: $s, channels: [SMS, AUTO] }) { sid } }`, { s: onlySms });
    expect(refused.errors?.[0].extensions).toMatchObject({ code: "INVALID_PARAMETER", field: "channels" });
  });

  it("does not fall back after 60540 (the carrier calls the number invalid: suspected fraud)", async () => {
    gw = await startGateway({ env });
    const v = await startSna({ to: "+14155550125", channel: "AUTO", deviceIp: "100.64.1.5" });
    expect((await openUrl(v.sna.url, "invalid")).body).toEqual({ status: "failed", errorCode: 60540 });
    await gw.app.dispatcher.idle();
    const read = (await gw.gql(READ, { sid: v.sid })).data?.verification;
    expect(read).toMatchObject({ channel: "SNA", status: "PENDING", snaAttemptsErrorCodes: [60540] });
    expect((await gw.gql(OUTBOX, { to: "+14155550125" })).data?.devOutbox).toEqual([]);
  });
});
