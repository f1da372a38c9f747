import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { START, type TestGateway, errorCode, startGateway } from "./support/gateway.js";
import { HTTP_SECRET, startHttpPeer, startSmtpServer } from "./support/peers.js";

// startVerification's sendDigits (CALL) and emailFrom / emailFromName (EMAIL): a real voice vendor
// (HTTP) fetches the call's TwiML, a real SMTP server receives the mail; both stores run this file.
let gw: TestGateway;
let vendor: Awaited<ReturnType<typeof startHttpPeer>>;
let smtp: Awaited<ReturnType<typeof startSmtpServer>>;
let phone = 0;
const nextPhone = () => `+1415555${String(3000 + phone++).padStart(4, "0")}`;

beforeAll(async () => {
  vendor = await startHttpPeer(() => ({ status: 200, body: { messageId: "call-1" } }));
  smtp = await startSmtpServer();
  gw = await startGateway({
    env: { HTTP_CALL_URL: vendor.url, HTTP_PROVIDER_SECRET: HTTP_SECRET, SMTP_URL: `smtp://127.0.0.1:${smtp.port}`, EMAIL_FROM: '"Acme Mailer" <no-reply@acme.example>' },
  });
});
afterAll(async () => {
  await gw?.close();
  await vendor?.close();
  await smtp?.close();
});

const unescape = (text: string) => text.replace(/&#(\d+);/g, (_, n) => String.fromCharCode(Number(n))).replace(/&amp;/g, "&");

async function start(input: Record<string, unknown>) {
  const r = await gw.gql(START, { input: { serviceSid: gw.defaultServiceSid, ...input } });
  if (r.errors) throw new Error(JSON.stringify(r.errors));
  await gw.app.dispatcher.idle();
  return r.data!.startVerification.verification as { sid: string; sendCodeAttempts: { attemptSid: string }[] };
}

/** The refusal a start answers: its code and field; and nothing of it written. */
async function refusal(input: Record<string, unknown>) {
  const before = await gw.counts();
  const r = await gw.gql(START, { input: { serviceSid: gw.defaultServiceSid, ...input } });
  await gw.app.dispatcher.idle();
  const after = await gw.counts();
  expect(after.verifications).toBe(before.verifications);
  expect(after.send_attempts).toBe(before.send_attempts);
  return { code: errorCode(r), field: r.errors?.[0]?.extensions?.field, message: r.errors?.[0]?.message };
}

async function twimlOf(attemptSid: string): Promise<string> {
  const request = vendor.requests.find((r) => (r.json as { attemptSid?: string } | null)?.attemptSid === attemptSid);
  const response = await fetch(unescape((request?.json as { answerUrl: string }).answerUrl), { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body: "CallSid=CA1" });
  return response.text();
}

async function ssmlOf(attemptSid: string): Promise<string> {
  const request = vendor.requests.find((r) => (r.json as { attemptSid?: string } | null)?.attemptSid === attemptSid);
  return (await fetch(unescape((request?.json as { ssmlUrl: string }).ssmlUrl))).text();
}

async function mailOf(attemptSid: string) {
  for (;;) {
    const mail = smtp.mails.find((m) => m.messageId === `<${attemptSid}@verigate>`);
    if (mail) return mail;
    await smtp.waitFor(smtp.mails.length + 1);
  }
}

describe("sendDigits", () => {
  it("the TwiML plays the digits before anything else; SSML cannot send digits and stays as it was", async () => {
    const v = await start({ to: nextPhone(), channel: "CALL", sendDigits: "ww1234#" });
    const attempt = v.sendCodeAttempts[0].attemptSid;
    expect(await twimlOf(attempt)).toMatch(/^<\?xml[^>]*>\n<Response><Play digits="ww1234#"\/><Gather /);
    const ssml = await ssmlOf(attempt);
    expect(ssml).toMatch(/^<\?xml[^>]*>\n<speak /);
    expect(ssml).not.toContain("1234#");
  });

  it("without the keypad challenge the digits come before the code is read", async () => {
    const service = (await gw.gql(`mutation { createService(input: { friendlyName: "NoDtmf", dtmfInputRequired: false }) { sid } }`)).data?.createService.sid;
    const r = await gw.gql(START, { input: { serviceSid: service, to: nextPhone(), channel: "CALL", sendDigits: "9" } });
    await gw.app.dispatcher.idle();
    const xml = await twimlOf(r.data?.startVerification.verification.sendCodeAttempts[0].attemptSid);
    expect(xml).toMatch(/<Response><Play digits="9"\/><Say /);
  });

  it("a resend replaces the first start's digits (stored once per verification)", async () => {
    const to = nextPhone();
    const first = await start({ to, channel: "CALL", sendDigits: "111" });
    const second = await start({ to, channel: "CALL", sendDigits: "222" });
    expect(second.sid).toBe(first.sid);
    expect(await twimlOf(second.sendCodeAttempts[1].attemptSid)).toContain('<Play digits="222"/>');
    const [row] = await gw.sql<{ delivery_options: string | null }>("select delivery_options from verifications where sid = ?", [first.sid]);
    expect(JSON.parse(row.delivery_options ?? "null")).toEqual({ sendDigits: "222" });
    // An SMS resend for the same number sends nothing of the call's.
    await start({ to, channel: "SMS" });
    const [after] = await gw.sql<{ delivery_options: string | null }>("select delivery_options from verifications where sid = ?", [first.sid]);
    expect(after.delivery_options).toBeNull();
  });

  it("CALL only, and only 0-9, #, * and w, at most 32: INVALID_PARAMETER on sendDigits", async () => {
    for (const input of [
      { to: nextPhone(), channel: "SMS", sendDigits: "1234" },
      { to: nextPhone(), channel: "AUTO", sendDigits: "1234" },
      { to: nextPhone(), channel: "CALL", sendDigits: "12ab" },
      { to: nextPhone(), channel: "CALL", sendDigits: '1"/><Hangup/>' },
      { to: nextPhone(), channel: "CALL", sendDigits: "1".repeat(33) },
      { to: "digits@example.org", channel: "EMAIL", sendDigits: "1" },
    ]) {
      expect(await refusal(input)).toMatchObject({ code: "INVALID_PARAMETER", field: "sendDigits" });
    }
  });
});

describe("emailFrom and emailFromName", () => {
  it("both, at the configured sender's domain: the mail's From is them", async () => {
    const v = await start({ to: "ada@example.org", channel: "EMAIL", emailFrom: "security@acme.example", emailFromName: "Acme Security" });
    const mail = await mailOf(v.sendCodeAttempts[0].attemptSid);
    expect(mail.from?.value).toEqual([{ name: "Acme Security", address: "security@acme.example" }]);
  });

  it("emailFromName alone keeps the configured address; emailFrom alone keeps the configured name", async () => {
    const named = await start({ to: "bob@example.org", channel: "EMAIL", emailFromName: "Acme Security" });
    expect((await mailOf(named.sendCodeAttempts[0].attemptSid)).from?.value).toEqual([{ name: "Acme Security", address: "no-reply@acme.example" }]);
    const addressed = await start({ to: "cy@example.org", channel: "EMAIL", emailFrom: "security@ACME.example" });
    expect((await mailOf(addressed.sendCodeAttempts[0].attemptSid)).from?.value).toEqual([{ name: "Acme Mailer", address: "security@acme.example" }]);
  });

  it("a resend uses the new start's sender; a resend without one, the configured sender", async () => {
    const to = "dan@example.org";
    await start({ to, channel: "EMAIL", emailFromName: "First" });
    const second = await start({ to, channel: "EMAIL", emailFrom: "team@acme.example", emailFromName: "Second" });
    expect((await mailOf(second.sendCodeAttempts[1].attemptSid)).from?.value).toEqual([{ name: "Second", address: "team@acme.example" }]);
    const third = await start({ to, channel: "EMAIL" });
    expect((await mailOf(third.sendCodeAttempts[2].attemptSid)).from?.value).toEqual([{ name: "Acme Mailer", address: "no-reply@acme.example" }]);
  });

  it("an address at any other domain is INVALID_PARAMETER on emailFrom, and nothing is written or sent", async () => {
    const sent = smtp.mails.length;
    for (const emailFrom of ["ceo@bank.example", "security@acme.example.evil.example", "security@mail.acme.example", "security@acme.example>", "not an address"]) {
      const refused = await refusal({ to: "eve@example.org", channel: "EMAIL", emailFrom, emailFromName: "Acme Security" });
      expect(refused).toMatchObject({ code: "INVALID_PARAMETER", field: "emailFrom" });
    }
    expect(smtp.mails.length).toBe(sent);
  });

  it("EMAIL only: INVALID_PARAMETER on emailFrom / emailFromName for another channel", async () => {
    expect(await refusal({ to: nextPhone(), channel: "SMS", emailFrom: "security@acme.example" })).toMatchObject({ code: "INVALID_PARAMETER", field: "emailFrom" });
    expect(await refusal({ to: nextPhone(), channel: "CALL", emailFromName: "Acme" })).toMatchObject({ code: "INVALID_PARAMETER", field: "emailFromName" });
    expect(await refusal({ to: "long@example.org", channel: "EMAIL", emailFromName: "x".repeat(101) })).toMatchObject({ code: "INVALID_PARAMETER", field: "emailFromName" });
  });

  it("a name that could inject a header or pose as an address is refused, and nothing is sent", async () => {
    const before = smtp.mails.length;
    for (const name of ["Acme\r\nBcc: victim@evil.example", "Acme\nSubject: pwned", 'Eve "the boss"', "Chase <alerts@chase.com>", "alerts@chase.com", "Acme\u0000"]) {
      expect(await refusal({ to: "frank@example.org", channel: "EMAIL", emailFromName: name })).toMatchObject({ code: "INVALID_PARAMETER", field: "emailFromName" });
    }
    // A plain name with an apostrophe and accents is a name.
    const v = await start({ to: "frank@example.org", channel: "EMAIL", emailFromName: "Acme Sécurité d'Île" });
    const mail = await mailOf(v.sendCodeAttempts.at(-1)!.attemptSid);
    expect(mail.from?.value).toEqual([{ name: "Acme Sécurité d'Île", address: "no-reply@acme.example" }]);
    expect(smtp.mails.length).toBe(before + 1);
  });
});

describe("without a configured sender", () => {
  it("the dev outbox has no sender domain: emailFrom is refused, emailFromName accepted", async () => {
    const dev = await startGateway();
    try {
      const r = await dev.gql(START, { input: { serviceSid: dev.defaultServiceSid, to: "gina@example.org", channel: "EMAIL", emailFrom: "me@example.org" } });
      expect(errorCode(r)).toBe("INVALID_PARAMETER");
      expect(r.errors?.[0]?.extensions?.field).toBe("emailFrom");
      expect(r.errors?.[0]?.message).toMatch(/EMAIL_FROM/);
      const named = await dev.gql(START, { input: { serviceSid: dev.defaultServiceSid, to: "gina@example.org", channel: "EMAIL", emailFromName: "Gina's bank" } });
      expect(named.errors).toBeUndefined();
    } finally {
      await dev.close();
    }
  });
});
