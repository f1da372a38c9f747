import { afterAll, beforeAll, describe, expect, it } from "vitest";
import twilio from "twilio";
import { HTTP_SECRET, startHttpPeer, startSmtpServer } from "../support/peers.js";
import { type TwilioGateway, twilioGateway } from "./support.js";

// Twilio's SendDigits (call) and email ChannelConfiguration (`from`, `from_name`), through the official
// SDK: a real voice vendor (HTTP) fetches the call's TwiML, a real SMTP server receives the mail.
let t: TwilioGateway;
let serviceSid: string;
let vendor: Awaited<ReturnType<typeof startHttpPeer>>;
let smtp: Awaited<ReturnType<typeof startSmtpServer>>;
let phone = 0;
const nextPhone = () => `+1415555${String(2000 + phone++).padStart(4, "0")}`;

beforeAll(async () => {
  vendor = await startHttpPeer(() => ({ status: 200, body: { messageId: "call-1" } }));
  smtp = await startSmtpServer();
  t = await twilioGateway({
    env: { HTTP_CALL_URL: vendor.url, HTTP_PROVIDER_SECRET: HTTP_SECRET, SMTP_URL: `smtp://127.0.0.1:${smtp.port}`, EMAIL_FROM: "Verigate <no-reply@example.com>" },
  });
  serviceSid = (await t.admin.verify.v2.services.create({ friendlyName: "Acme" })).sid;
});
afterAll(async () => {
  await t?.close();
  await vendor?.close();
  await smtp?.close();
});

/** XML character references, as an XML parser would decode them. */
const unescape = (text: string) => text.replace(/&#(\d+);/g, (_, n) => String.fromCharCode(Number(n))).replace(/&amp;/g, "&");

/** What a TwiML voice platform does once the callee answers: fetch the answer URL and read the XML. */
async function answerTwiml(attemptSid: string): Promise<string> {
  const request = vendor.requests.find((r) => (r.json as { attemptSid?: string } | null)?.attemptSid === attemptSid);
  const answerUrl = (request?.json as { answerUrl: string }).answerUrl;
  const response = await fetch(unescape(answerUrl), { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body: "CallSid=CA1" });
  expect(response.status).toBe(200);
  return response.text();
}

/** The mail sent for one attempt (its Message-ID is derived from the attempt sid). */
async function mailOf(attemptSid: string) {
  for (;;) {
    const mail = smtp.mails.find((m) => m.messageId === `<${attemptSid}@verigate>`);
    if (mail) return mail;
    await smtp.waitFor(smtp.mails.length + 1);
  }
}

async function verificationCount(to: string): Promise<number> {
  const r = await t.gw.gql("query($s: ID!) { verifications(serviceSid: $s, first: 100) { nodes { to } } }", { s: serviceSid });
  return (r.data?.verifications.nodes as { to: string }[]).filter((v) => v.to === to).length;
}

describe("SendDigits", () => {
  it("the call's TwiML plays the digits first, before the keypad challenge; a resend plays its own", async () => {
    const to = nextPhone();
    const started = await t.admin.verify.v2.services(serviceSid).verifications.create({ to, channel: "call", sendDigits: "ww1234" });
    const first = started.sendCodeAttempts[0].attempt_sid;
    await t.gw.app.dispatcher.idle();
    const xml = await answerTwiml(first);
    expect(xml).toMatch(/<Response><Play digits="ww1234"\/><Gather numDigits="1"/);
    expect(xml.match(/<Play /g)).toHaveLength(1);

    // A resend (same `to`, same verification) is dialled as the new start asks.
    const resent = await t.admin.verify.v2.services(serviceSid).verifications.create({ to, channel: "call", sendDigits: "w9#" });
    expect(resent.sid).toBe(started.sid);
    await t.gw.app.dispatcher.idle();
    expect(await answerTwiml(resent.sendCodeAttempts[1].attempt_sid)).toMatch(/<Response><Play digits="w9#"\/><Gather /);
    const plain = await t.admin.verify.v2.services(serviceSid).verifications.create({ to, channel: "call" });
    await t.gw.app.dispatcher.idle();
    const noDigits = await answerTwiml(plain.sendCodeAttempts[2].attempt_sid);
    expect(noDigits).toMatch(/<Response><Gather /);
    expect(noDigits).not.toContain("<Play");
  });

  it("only a call dials digits, and only digits, #, * and w: 400 / 60200, nothing written", async () => {
    const to = nextPhone();
    const sms = await t.admin.verify.v2.services(serviceSid).verifications.create({ to, channel: "sms", sendDigits: "1234" }).catch((e) => e);
    expect(sms).toBeInstanceOf(twilio.RestException);
    expect(sms).toMatchObject({ status: 400, code: 60200 });
    const letters = await t.admin.verify.v2.services(serviceSid).verifications.create({ to, channel: "call", sendDigits: "12ab" }).catch((e) => e);
    expect(letters).toMatchObject({ status: 400, code: 60200 });
    expect(await verificationCount(to)).toBe(0);
  });
});

describe("email ChannelConfiguration", () => {
  it("from and from_name at the configured sender's domain: the mail comes from them", async () => {
    const started = await t.admin.verify.v2
      .services(serviceSid)
      .verifications.create({ to: "ada@example.org", channel: "email", channelConfiguration: { from: "security@example.com", from_name: "Acme Security" } });
    const mail = await mailOf(started.sendCodeAttempts[0].attempt_sid);
    expect(mail.from?.value).toEqual([{ name: "Acme Security", address: "security@example.com" }]);
    expect(mail.from?.text).toBe('"Acme Security" <security@example.com>');
  });

  it("the domain is compared case-insensitively", async () => {
    const started = await t.admin.verify.v2.services(serviceSid).verifications.create({ to: "case@example.org", channel: "email", channelConfiguration: { from: "Security@EXAMPLE.com" } });
    const mail = await mailOf(started.sendCodeAttempts[0].attempt_sid);
    // The configured display name stays when only the address is chosen.
    expect(mail.from?.value).toEqual([{ name: "Verigate", address: "Security@example.com" }]);
  });

  it("a from at another domain is refused with 400 / 60200 and nothing is written or sent", async () => {
    const to = "spoof@example.org";
    const sent = smtp.mails.length;
    for (const from of ["ceo@bank.example", "security@example.com.evil.example", "security@sub.example.com"]) {
      const error = await t.admin.verify.v2.services(serviceSid).verifications.create({ to, channel: "email", channelConfiguration: { from, from_name: "Acme Security" } }).catch((e) => e);
      expect(error).toBeInstanceOf(twilio.RestException);
      expect(error).toMatchObject({ status: 400, code: 60200 });
      expect(error.message).toMatch(/example\.com/);
    }
    expect(await verificationCount(to)).toBe(0);
    await t.gw.app.dispatcher.idle();
    expect(smtp.mails.length).toBe(sent);
  });

  it("from_name alone keeps the configured address, under the new name", async () => {
    const started = await t.admin.verify.v2.services(serviceSid).verifications.create({ to: "grace@example.org", channel: "email", channelConfiguration: { from_name: "Acme Security" } });
    const mail = await mailOf(started.sendCodeAttempts[0].attempt_sid);
    expect(mail.from?.value).toEqual([{ name: "Acme Security", address: "no-reply@example.com" }]);
  });

  it("without a configuration the configured sender is used, as before", async () => {
    const started = await t.admin.verify.v2.services(serviceSid).verifications.create({ to: "plain@example.org", channel: "email" });
    const mail = await mailOf(started.sendCodeAttempts[0].attempt_sid);
    expect(mail.from?.value).toEqual([{ name: "Verigate", address: "no-reply@example.com" }]);
  });

  it("a from_name that could inject a header or pose as an address is refused: 400 / 60200", async () => {
    for (const name of ["Acme\r\nBcc: victim@evil.example", 'Eve "the boss"', "Chase <alerts@chase.com>"]) {
      const error = await t.admin.verify.v2.services(serviceSid).verifications.create({ to: "inject@example.org", channel: "email", channelConfiguration: { from_name: name } }).catch((e) => e);
      expect(error).toMatchObject({ status: 400, code: 60200 });
    }
  });

  it("a configuration for a call is refused: 400 / 60200", async () => {
    const error = await t.admin.verify.v2.services(serviceSid).verifications.create({ to: nextPhone(), channel: "call", channelConfiguration: { from_name: "Acme" } }).catch((e) => e);
    expect(error).toMatchObject({ status: 400, code: 60200 });
  });
});
