import { afterAll, beforeAll, describe, expect, it } from "vitest";
import twilio from "twilio";
import { ACCOUNT_SID, type TwilioGateway, lastCode, twilioGateway } from "./support.js";

// The official `twilio` SDK, used as published, pointed at Verigate by its documented custom HTTP client;
// every answer is checked against Twilio's OpenAPI description (./openapi.ts) before the SDK reads it.
let t: TwilioGateway;
let serviceSid: string;
let phone = 0;
const nextPhone = () => `+1415555${String(1000 + phone++).padStart(4, "0")}`;

beforeAll(async () => {
  t = await twilioGateway();
  serviceSid = (await t.admin.verify.v2.services.create({ friendlyName: "Coming from Twilio" })).sid;
});
afterAll(() => t?.close());

describe("verifications through the twilio SDK", () => {
  it("runs a whole SMS verification: start, read the code, check it, fetch it", async () => {
    const to = nextPhone();
    const started = await t.admin.verify.v2.services(serviceSid).verifications.create({ to, channel: "sms" });
    expect(started.sid).toMatch(/^VE[0-9a-f]{32}$/);
    expect(started).toMatchObject({ serviceSid, accountSid: ACCOUNT_SID, to, channel: "sms", status: "pending", valid: false });
    expect(started.sendCodeAttempts).toHaveLength(1);
    const code = await lastCode(t.gw, to);
    const checked = await t.admin.verify.v2.services(serviceSid).verificationChecks.create({ to, code });
    expect(checked).toMatchObject({ sid: started.sid, status: "approved", valid: true });
    const fetched = await t.admin.verify.v2.services(serviceSid).verifications(started.sid).fetch();
    expect(fetched.status).toBe("approved");
  });

  it("starts an email verification and checks it by verification sid", async () => {
    const to = "sdk-user@example.com";
    const started = await t.admin.verify.v2.services(serviceSid).verifications.create({ to, channel: "email" });
    expect(started.channel).toBe("email");
    const checked = await t.admin.verify.v2.services(serviceSid).verificationChecks.create({ verificationSid: started.sid, code: await lastCode(t.gw, to) });
    expect(checked.status).toBe("approved");
  });

  it("cancels a verification; a check after it is refused with 20404", async () => {
    const to = nextPhone();
    const started = await t.admin.verify.v2.services(serviceSid).verifications.create({ to, channel: "sms" });
    const canceled = await t.admin.verify.v2.services(serviceSid).verifications(started.sid).update({ status: "canceled" });
    expect(canceled.status).toBe("canceled");
    const error = await t.admin.verify.v2.services(serviceSid).verificationChecks.create({ verificationSid: started.sid, code: "123456" }).catch((e) => e);
    expect(error).toBeInstanceOf(twilio.RestException);
    expect(error).toMatchObject({ status: 404, code: 20404 });
  });

  it("a wrong code leaves it pending; the fifth wrong code ends it; the next check answers 60202", async () => {
    const to = nextPhone();
    await t.admin.verify.v2.services(serviceSid).verifications.create({ to, channel: "sms" });
    const code = await lastCode(t.gw, to);
    const wrong = code === "000000" ? "111111" : "000000";
    const first = await t.admin.verify.v2.services(serviceSid).verificationChecks.create({ to, code: wrong });
    expect(first).toMatchObject({ status: "pending", valid: false });
    for (let i = 0; i < 3; i++) await t.admin.verify.v2.services(serviceSid).verificationChecks.create({ to, code: wrong });
    const fifth = await t.admin.verify.v2.services(serviceSid).verificationChecks.create({ to, code: wrong });
    expect(fifth.status).toBe("max_attempts_reached");
    const error = await t.admin.verify.v2.services(serviceSid).verificationChecks.create({ to, code }).catch((e) => e);
    expect(error).toBeInstanceOf(twilio.RestException);
    expect(error.code === 60202 || error.code === 20404).toBe(true);
    expect([404, 429]).toContain(error.status);
  });

  it("answers an unknown sid with RestException 404 / 20404", async () => {
    const error = await t.admin.verify.v2.services(`VA${"0".repeat(32)}`).fetch().catch((e) => e);
    expect(error).toBeInstanceOf(twilio.RestException);
    expect(error).toMatchObject({ status: 404, code: 20404 });
    const missing = await t.admin.verify.v2.services(serviceSid).verifications(`VE${"0".repeat(32)}`).fetch().catch((e) => e);
    expect(missing).toMatchObject({ status: 404, code: 20404 });
  });

  it("refuses a wrong admin key and a wrong account sid with 401 / 20003", async () => {
    const httpClient = new (await import("./support.js")).VerigateRequestClient(() => t.gw.url);
    const wrongKey = twilio(ACCOUNT_SID, "not-the-admin-key-0123456789", { httpClient });
    expect(await wrongKey.verify.v2.services.list().catch((e) => e)).toMatchObject({ status: 401, code: 20003 });
    const wrongAccount = twilio(`AC${"f".repeat(32)}`, "vga_test_admin_key_0123456789abcdef", { httpClient });
    expect(await wrongAccount.verify.v2.services.list().catch((e) => e)).toMatchObject({ status: 401, code: 20003 });
  });

  it("an API key (SK… + secret) works inside its own service only", async () => {
    const { sid, key } = await t.apiKey(serviceSid);
    const client = t.withKey(sid, key);
    const to = nextPhone();
    const started = await client.verify.v2.services(serviceSid).verifications.create({ to, channel: "sms" });
    expect(started.status).toBe("pending");
    const listed = await client.verify.v2.services.list();
    expect(listed.map((s) => s.sid)).toEqual([serviceSid]);
    const other = await t.admin.verify.v2.services.create({ friendlyName: "Someone else" });
    expect(await client.verify.v2.services(other.sid).fetch().catch((e) => e)).toMatchObject({ status: 404, code: 20404 });
    expect(await client.verify.v2.services(other.sid).verifications.create({ to, channel: "sms" }).catch((e) => e)).toMatchObject({ status: 404, code: 20404 });
    expect(await client.verify.v2.services.create({ friendlyName: "not mine to make" }).catch((e) => e)).toMatchObject({ status: 403 });
  });

  it("a verification started through the SDK is seen APPROVED by a graphql-ws subscriber", async () => {
    const to = nextPhone();
    const started = await t.admin.verify.v2.services(serviceSid).verifications.create({ to, channel: "sms" });
    const ws = t.gw.wsClient();
    const statuses: string[] = [];
    const done = new Promise<void>((resolve, reject) => {
      ws.subscribe<{ verificationUpdated: { status: string } }>(
        { query: "subscription($sid: ID!) { verificationUpdated(sid: $sid) { status } }", variables: { sid: started.sid } },
        { next: (m) => void statuses.push(m.data!.verificationUpdated.status), error: reject, complete: resolve },
      );
    });
    await expect.poll(() => statuses.length).toBeGreaterThan(0);
    await t.admin.verify.v2.services(serviceSid).verificationChecks.create({ to, code: await lastCode(t.gw, to) });
    await done;
    expect(statuses.at(0)).toBe("PENDING");
    expect(statuses.at(-1)).toBe("APPROVED");
  });
});

describe("every channel and the start parameters", () => {
  it("starts whatsapp and call verifications that deliver their code", async () => {
    for (const channel of ["whatsapp", "call"] as const) {
      const to = nextPhone();
      const started = await t.admin.verify.v2.services(serviceSid).verifications.create({ to, channel, locale: "fr", customFriendlyName: "Acme" });
      expect(started.channel).toBe(channel);
      const checked = await t.admin.verify.v2.services(serviceSid).verificationChecks.create({ to, code: await lastCode(t.gw, to) });
      expect(checked.status).toBe("approved");
    }
  });

  it("SNA: the answer carries the single-use URL; opening it approves, and a check without code says approved", async () => {
    const to = nextPhone();
    const started = await t.admin.verify.v2.services(serviceSid).verifications.create({ to, channel: "sna" });
    expect(started.channel).toBe("sna");
    expect(started.sna).toMatchObject({ url: expect.stringContaining("/sna/") });
    const opened = await fetch((started.sna as { url: string }).url, { headers: { "Verigate-Sandbox-Msisdn": to } });
    expect(opened.status).toBe(200);
    const checked = await t.admin.verify.v2.services(serviceSid).verificationChecks.create({ to });
    expect(checked).toMatchObject({ status: "approved", valid: true, snaAttemptsErrorCodes: [] });
  });

  it("auto without a device IP the carrier covers falls back to SMS", async () => {
    const to = nextPhone();
    const started = await t.admin.verify.v2.services(serviceSid).verifications.create({ to, channel: "auto" } as never);
    expect(started.channel).toBe("sms");
  });

  it("custom codes, PSD2 amount and payee, tags and risk check reach the domain", async () => {
    const psd2 = await t.admin.verify.v2.services.create({ friendlyName: "Bank", psd2Enabled: true, customCodeEnabled: true });
    const to = nextPhone();
    const started = await t.admin.verify.v2.services(psd2.sid).verifications.create({ to, channel: "sms", amount: "€39.99", payee: "Acme", customCode: "482913", tags: JSON.stringify({ order: "42" }), riskCheck: "disable" } as never);
    expect(started).toMatchObject({ amount: "€39.99", payee: "Acme" });
    const wrongPayee = await t.admin.verify.v2.services(psd2.sid).verificationChecks.create({ to, code: "482913", amount: "€39.99", payee: "Mallory" });
    expect(wrongPayee.status).toBe("pending");
    const checked = await t.admin.verify.v2.services(psd2.sid).verificationChecks.create({ to, code: "482913", amount: "€39.99", payee: "Acme" });
    expect(checked.status).toBe("approved");
    const noCustom = await t.admin.verify.v2.services(serviceSid).verifications.create({ to: nextPhone(), channel: "sms", customCode: "123456" }).catch((e) => e);
    expect(noCustom).toMatchObject({ status: 400, code: 60200 });
  });

  it("refuses parameters a channel does not take, with 400 / 60200", async () => {
    const sendDigits = await t.admin.verify.v2.services(serviceSid).verifications.create({ to: nextPhone(), channel: "sms", sendDigits: "1234" }).catch((e) => e);
    expect(sendDigits).toMatchObject({ status: 400, code: 60200 });
    const badFrom = await t.admin.verify.v2.services(serviceSid).verifications.create({ to: "cfg@example.com", channel: "email", channelConfiguration: { from: "not an address" } }).catch((e) => e);
    expect(badFrom).toMatchObject({ status: 400, code: 60200 });
    const badChannel = await t.admin.verify.v2.services(serviceSid).verifications.create({ to: nextPhone(), channel: "pigeon" }).catch((e) => e);
    expect(badChannel).toMatchObject({ status: 400, code: 60200 });
    // A missing `To` never leaves the SDK (it checks required parameters itself); form-fuzz.test.ts sends it raw.
  });
});

describe("services through the twilio SDK", () => {
  it("creates, fetches, updates and lists services; list() and each() page over 120 of them", async () => {
    const created = await t.admin.verify.v2.services.create({ friendlyName: "Settings", codeLength: 8, psd2Enabled: true, "totp.issuer": "Acme" } as never);
    expect(created).toMatchObject({ friendlyName: "Settings", codeLength: 8, psd2Enabled: true });
    const updated = await t.admin.verify.v2.services(created.sid).update({ friendlyName: "Renamed", customCodeEnabled: true });
    expect(updated).toMatchObject({ friendlyName: "Renamed", customCodeEnabled: true, codeLength: 8 });
    expect((await t.admin.verify.v2.services(created.sid).fetch()).friendlyName).toBe("Renamed");

    for (let i = 0; i < 120; i += 10) await Promise.all(Array.from({ length: 10 }, (_, j) => t.admin.verify.v2.services.create({ friendlyName: `Paged ${i + j}` })));
    const all = await t.admin.verify.v2.services.list({ pageSize: 25 });
    const names = all.map((s) => s.friendlyName).filter((n) => n.startsWith("Paged "));
    expect(names).toHaveLength(120);
    expect(new Set(all.map((s) => s.sid)).size).toBe(all.length);
    const seen: string[] = [];
    await new Promise<void>((resolve, reject) => {
      t.admin.verify.v2.services.each({ pageSize: 40, done: (e?: Error) => (e ? reject(e) : resolve()) } as never, (s: { friendlyName: string }) => {
        if (s.friendlyName.startsWith("Paged ")) seen.push(s.friendlyName);
      });
    });
    expect(new Set(seen).size).toBe(120);
    const page = await t.admin.verify.v2.services.page({ pageSize: 7 });
    expect(page.instances).toHaveLength(7);
    expect(page.nextPageUrl).toContain("PageToken=");
  });

  it("answers bad service input with Twilio's 400 and a 60200 / 20001 code", async () => {
    const error = await t.admin.verify.v2.services.create({ friendlyName: "x", codeLength: 3 }).catch((e) => e);
    expect(error).toBeInstanceOf(twilio.RestException);
    expect(error).toMatchObject({ status: 400, code: 60200 });
  });
});
