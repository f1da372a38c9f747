import { afterEach, describe, expect, it, vi } from "vitest";
import { signedHeaders, verifySigned } from "../src/providers/http/signing.js";
import { CHECK, START, type TestGateway, startGateway } from "./support/gateway.js";
import { HTTP_SECRET, httpPeers } from "./support/peers.js";

let gw: TestGateway | undefined;
const peers = httpPeers();
afterEach(async () => {
  await gw?.close();
  await peers.closeAll();
  gw = undefined;
});
const peer = peers.start;
const ATTEMPTS = `query($sid: ID!) { verification(sid: $sid) { sendCodeAttempts { attemptSid status channel providerMessageId errorCode } } }`;

describe("generic HTTP provider", () => {
  it("POSTs a signed JSON message with the attempt sid as idempotency key; a signed status callback marks it DELIVERED", async () => {
    const vendor = await peer((_r, i) => ({ status: 202, body: { messageId: `vendor-${i}` } }));
    gw = await startGateway({ env: { HTTP_SMS_URL: `${vendor.url}/sms`, HTTP_PROVIDER_SECRET: HTTP_SECRET, SMS_FROM: "+15005550006" } });
    const started = await gw.gql(START, { input: { serviceSid: gw.defaultServiceSid, to: "+14155557001", channel: "SMS" } });
    const sid = started.data?.startVerification.verification.sid;
    await vendor.until(1);
    const request = vendor.requests[0];
    const attemptSid = started.data?.startVerification.verification.sendCodeAttempts[0].attemptSid;
    expect(request.path).toBe("/sms");
    expect(request.headers["idempotency-key"]).toBe(attemptSid);
    expect(request.headers["webhook-id"]).toBe(attemptSid);
    expect(() => verifySigned(HTTP_SECRET, request.body, request.headers as Record<string, string>)).not.toThrow();
    expect(() => verifySigned(HTTP_SECRET, request.body.replace("+1415", "+1416"), request.headers as Record<string, string>)).toThrow();
    expect(request.json).toMatchObject({ attemptSid, verificationSid: sid, channel: "SMS", to: "+14155557001", from: "+15005550006", locale: "en" });
    const code = /code is: (\d{6})/.exec(request.json.body)?.[1];

    await gw.app.dispatcher.idle();
    expect((await gw.gql(ATTEMPTS, { sid })).data?.verification.sendCodeAttempts[0]).toMatchObject({ status: "SENT", providerMessageId: "vendor-0" });

    const callback = JSON.stringify({ messageId: "vendor-0", status: "delivered" });
    const unsigned = await fetch(`${gw.url}/providers/http/status`, { method: "POST", headers: { "content-type": "application/json" }, body: callback });
    expect(unsigned.status).toBe(401);
    const forged = await fetch(`${gw.url}/providers/http/status`, {
      method: "POST",
      headers: { "content-type": "application/json", ...signedHeaders(`whsec_${Buffer.from("another-secret-of-32-bytes-long!!").toString("base64")}`, "cb1", callback) },
      body: callback,
    });
    expect(forged.status).toBe(401);
    const signed = await fetch(`${gw.url}/providers/http/status`, { method: "POST", headers: { "content-type": "application/json", ...signedHeaders(HTTP_SECRET, "cb2", callback) }, body: callback });
    expect(signed.status).toBe(204);
    await vi.waitFor(async () => expect((await gw!.gql(ATTEMPTS, { sid })).data?.verification.sendCodeAttempts[0].status).toBe("DELIVERED"));

    const checked = await gw.gql(CHECK, { input: { serviceSid: gw.defaultServiceSid, verificationSid: sid, code } });
    expect(checked.data?.checkVerification.verification.status).toBe("APPROVED");
  });
});

describe("RCS upgrade", () => {
  it("an RCS-capable number gets RCS, and the attempt records RCS", async () => {
    const rcs = await peer(() => ({ status: 200, body: { messageId: "rcs-1" } }));
    const sms = await peer(() => ({ status: 200, body: { messageId: "sms-1" } }));
    gw = await startGateway({ env: { HTTP_RCS_URL: rcs.url, HTTP_SMS_URL: sms.url, HTTP_PROVIDER_SECRET: HTTP_SECRET, RCS_CAPABLE_NUMBERS: "+14155557002" } });
    const a = await gw.gql(START, { input: { serviceSid: gw.defaultServiceSid, to: "+14155557002", channel: "SMS" } });
    const b = await gw.gql(START, { input: { serviceSid: gw.defaultServiceSid, to: "+14155557003", channel: "SMS" } });
    await gw.app.dispatcher.idle();
    expect(rcs.requests.map((r) => r.json.to)).toEqual(["+14155557002"]);
    expect(rcs.requests[0].json.channel).toBe("RCS");
    expect(sms.requests.map((r) => r.json.to)).toEqual(["+14155557003"]);
    expect((await gw.gql(ATTEMPTS, { sid: a.data?.startVerification.verification.sid })).data?.verification.sendCodeAttempts[0]).toMatchObject({ channel: "RCS", status: "SENT", providerMessageId: "rcs-1" });
    expect((await gw.gql(ATTEMPTS, { sid: b.data?.startVerification.verification.sid })).data?.verification.sendCodeAttempts[0]).toMatchObject({ channel: "SMS" });
  });

  it("an RCS failure falls back to SMS inside the same send attempt", async () => {
    const rcs = await peer(() => ({ status: 503 }));
    const sms = await peer(() => ({ status: 200, body: { messageId: "sms-9" } }));
    gw = await startGateway({ env: { HTTP_RCS_URL: rcs.url, HTTP_SMS_URL: sms.url, HTTP_PROVIDER_SECRET: HTTP_SECRET, RCS_CAPABLE_NUMBERS: "+14155557004" } });
    const started = await gw.gql(START, { input: { serviceSid: gw.defaultServiceSid, to: "+14155557004", channel: "SMS" } });
    await gw.app.dispatcher.idle();
    expect(rcs.requests).toHaveLength(1);
    expect(sms.requests).toHaveLength(1);
    expect(sms.requests[0].json.attemptSid).toBe(rcs.requests[0].json.attemptSid);
    const attempts = (await gw.gql(ATTEMPTS, { sid: started.data?.startVerification.verification.sid })).data?.verification.sendCodeAttempts;
    expect(attempts).toHaveLength(1);
    expect(attempts[0]).toMatchObject({ channel: "SMS", status: "SENT", providerMessageId: "sms-9" });
  });
});

describe("WhatsApp Cloud API", () => {
  it("sends the authentication template Meta documents: code in the body and the copy-code button, language from the locale", async () => {
    const meta = await peer(() => ({ status: 200, body: { messaging_product: "whatsapp", contacts: [{ input: "5511987654321", wa_id: "5511987654321" }], messages: [{ id: "wamid.HBgL" }] } }));
    gw = await startGateway({ env: { WHATSAPP_API_URL: `${meta.url}/v21.0`, WHATSAPP_ACCESS_TOKEN: "EAAG-token", WHATSAPP_PHONE_NUMBER_ID: "106540352242922", WHATSAPP_TEMPLATE: "auth_code" } });
    const started = await gw.gql(START, { input: { serviceSid: gw.defaultServiceSid, to: "+5511987654321", channel: "WHATSAPP" } });
    await gw.app.dispatcher.idle();
    const request = meta.requests[0];
    expect(request.path).toBe("/v21.0/106540352242922/messages");
    expect(request.headers.authorization).toBe("Bearer EAAG-token");
    const code = request.json.template.components[0].parameters[0].text;
    expect(code).toMatch(/^\d{6}$/);
    expect(request.json).toEqual({
      messaging_product: "whatsapp",
      recipient_type: "individual",
      to: "5511987654321",
      type: "template",
      template: {
        name: "auth_code",
        // A Brazilian number with no locale asked: Brazilian Portuguese.
        language: { code: "pt_BR" },
        components: [
          { type: "body", parameters: [{ type: "text", text: code }] },
          { type: "button", sub_type: "url", index: "0", parameters: [{ type: "text", text: code }] },
        ],
      },
    });
    const sid = started.data?.startVerification.verification.sid;
    expect((await gw.gql(ATTEMPTS, { sid })).data?.verification.sendCodeAttempts[0]).toMatchObject({ channel: "WHATSAPP", status: "SENT", providerMessageId: "wamid.HBgL" });
    expect((await gw.gql(CHECK, { input: { serviceSid: gw.defaultServiceSid, verificationSid: sid, code } })).data?.checkVerification.verification.status).toBe("APPROVED");
  });

  it("falls back to SMS when WhatsApp fails, unless the fallback is off", async () => {
    const meta = await peer(() => ({ status: 400, body: { error: { code: 131026, message: "Message undeliverable" } } }));
    const sms = await peer(() => ({ status: 200, body: { messageId: "sms-fallback" } }));
    const env = { WHATSAPP_API_URL: meta.url, WHATSAPP_ACCESS_TOKEN: "t", WHATSAPP_PHONE_NUMBER_ID: "1", HTTP_SMS_URL: sms.url, HTTP_PROVIDER_SECRET: HTTP_SECRET };
    gw = await startGateway({ env });
    const started = await gw.gql(START, { input: { serviceSid: gw.defaultServiceSid, to: "+14155557005", channel: "WHATSAPP" } });
    await gw.app.dispatcher.idle();
    expect(sms.requests[0].json.body).toMatch(/^Your Default verification code is: \d{6}$/);
    expect((await gw.gql(ATTEMPTS, { sid: started.data?.startVerification.verification.sid })).data?.verification.sendCodeAttempts[0]).toMatchObject({ channel: "SMS", status: "SENT" });
    await gw.close();

    gw = await startGateway({ env: { ...env, WHATSAPP_FALLBACK_SMS: "false", OUTBOX_MAX_TRIES: "1" } });
    const second = await gw.gql(START, { input: { serviceSid: gw.defaultServiceSid, to: "+14155557006", channel: "WHATSAPP" } });
    await gw.app.dispatcher.idle();
    expect(sms.requests).toHaveLength(1);
    const attempt = (await gw.gql(ATTEMPTS, { sid: second.data?.startVerification.verification.sid })).data?.verification.sendCodeAttempts[0];
    expect(attempt).toMatchObject({ channel: "WHATSAPP", status: "FAILED" });
    expect(attempt.errorCode).toMatch(/131026/);
  });
});
