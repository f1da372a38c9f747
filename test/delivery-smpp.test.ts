import { afterEach, describe, expect, it, vi } from "vitest";
import { CHECK, START, type TestGateway, startGateway, subscribeWs } from "./support/gateway.js";
import { startSmppServer } from "./support/peers.js";

let gw: TestGateway | undefined;
let smsc: Awaited<ReturnType<typeof startSmppServer>> | undefined;
afterEach(async () => {
  await gw?.close();
  await smsc?.close();
  gw = smsc = undefined;
});

async function setup(extraEnv: Record<string, string> = {}, credentials = { systemId: "verigate", password: "pw" }) {
  smsc = await startSmppServer({ systemId: "verigate", password: "pw" });
  gw = await startGateway({
    env: { SMPP_URL: `smpp://${credentials.systemId}:${credentials.password}@127.0.0.1:${smsc.port}`, SMS_FROM: "Verigate", SMPP_ENQUIRE_LINK_MS: "200", ...extraEnv },
  });
  return { gw, smsc };
}

const ATTEMPTS = `query($sid: ID!) { verification(sid: $sid) { sendCodeAttempts { status channel providerMessageId errorCode } } }`;

describe("SMS over SMPP", () => {
  it("binds as a transceiver, submits a GSM-7 message whose code approves, and maps the receipt to DELIVERED for subscribers", async () => {
    const { gw, smsc } = await setup();
    const started = await gw.gql(START, { input: { serviceSid: gw.defaultServiceSid, to: "+14155556001", channel: "SMS" } });
    const sid = started.data?.startVerification.verification.sid;
    const updates = subscribeWs(gw.wsClient(), `subscription($sid: ID!) { verificationUpdated(sid: $sid) { status sendCodeAttempts { status providerMessageId } } }`, { sid });
    await smsc.until(() => smsc.submitted.length === 1);
    expect(smsc.binds).toEqual([{ systemId: "verigate", ok: true }]);
    const sms = smsc.submitted[0];
    expect(sms.pdu).toMatchObject({ destination_addr: "14155556001", dest_addr_ton: 1, source_addr: "Verigate", source_addr_ton: 5, data_coding: 0, registered_delivery: 1 });
    const code = /code is: (\d{6})/.exec(sms.text)?.[1];
    expect(code).toMatch(/^\d{6}$/);

    await gw.app.dispatcher.idle();
    // The subscriber holds its current state before the receipt comes.
    await updates.waitFor(1);
    smsc.receipt(sms, "DELIVRD");
    await vi.waitFor(async () => {
      const read = await gw.gql(ATTEMPTS, { sid });
      expect(read.data?.verification.sendCodeAttempts[0]).toEqual({ status: "DELIVERED", channel: "SMS", providerMessageId: sms.messageId, errorCode: null });
    });
    await vi.waitFor(() => expect(updates.values.at(-1)?.verificationUpdated.sendCodeAttempts[0].status).toBe("DELIVERED"));
    // Each state once, in order (the subscriber may have joined after QUEUED).
    const seen = updates.values.map((v) => v.verificationUpdated.sendCodeAttempts[0].status).join(",");
    expect(["QUEUED,SENT,DELIVERED", "SENT,DELIVERED"]).toContain(seen);
    const checked = await gw.gql(CHECK, { input: { serviceSid: gw.defaultServiceSid, verificationSid: sid, code } });
    expect(checked.data?.checkVerification.verification.status).toBe("APPROVED");
  });

  it.each([["UNDELIV"], ["EXPIRED"], ["REJECTD"], ["DELETED"]])("a %s receipt marks the attempt UNDELIVERED", async (stat) => {
    const { gw, smsc } = await setup();
    const started = await gw.gql(START, { input: { serviceSid: gw.defaultServiceSid, to: "+14155556002", channel: "SMS" } });
    await smsc.until(() => smsc.submitted.length === 1);
    await gw.app.dispatcher.idle();
    smsc.receipt(smsc.submitted[0], stat, "011");
    await vi.waitFor(async () => {
      const read = await gw.gql(ATTEMPTS, { sid: started.data?.startVerification.verification.sid });
      expect(read.data?.verification.sendCodeAttempts[0]).toMatchObject({ status: "UNDELIVERED", errorCode: `${stat}:011` });
    });
  });

  it("chooses UCS-2 for text outside the GSM alphabet and splits long messages into concatenated parts with a UDH", async () => {
    const { gw, smsc } = await setup();
    // Russian wording plus the do-not-share warning: well over 70 UCS-2 characters.
    const service = await gw.gql(`mutation { createService(input: { friendlyName: "Банк", doNotShareWarningEnabled: true }) { sid } }`);
    await gw.gql(START, { input: { serviceSid: service.data?.createService.sid, to: "+79161234567", channel: "SMS" } });
    await smsc.until(() => smsc.submitted.length >= 2);
    await gw.app.dispatcher.idle();
    const parts = smsc.submitted;
    expect(parts.length).toBeGreaterThanOrEqual(2);
    for (const [i, part] of parts.entries()) {
      expect(part.pdu.data_coding).toBe(8);
      expect((part.pdu.esm_class as number) & 0x40).toBe(0x40);
      // The peer hands us the concatenation element of the UDH: IEI 00, length 3, reference, total, sequence.
      expect([...(part.udh ?? [])]).toEqual([0x00, 0x03, parts[0].udh?.[2], parts.length, i + 1]);
      expect(part.text.length).toBeLessThanOrEqual(67);
    }
    const whole = parts.map((p) => p.text).join("");
    expect(whole).toMatch(/^Ваш код подтверждения Банк: \d{6}\. Никому не сообщайте этот код/);

    // A receipt for every part makes the attempt DELIVERED; the attempt knows the first part's id.
    const LIST = `query($s: ID!) { verifications(serviceSid: $s) { nodes { sendCodeAttempts { status providerMessageId } } } }`;
    const attempt = async () => (await gw.gql(LIST, { s: service.data?.createService.sid })).data?.verifications.nodes[0].sendCodeAttempts[0];
    // The first parts' receipts alone do not make the message delivered.
    for (const part of parts.slice(0, -1)) smsc.receipt(part, "DELIVRD");
    await new Promise((r) => setTimeout(r, 300));
    expect(await attempt()).toEqual({ status: "SENT", providerMessageId: parts[0].messageId });
    smsc.receipt(parts.at(-1)!, "DELIVRD");
    await vi.waitFor(async () => expect(await attempt()).toEqual({ status: "DELIVERED", providerMessageId: parts[0].messageId }));
  });

  it("keeps the link alive with enquire_link and re-binds after a dropped connection", async () => {
    const { gw, smsc } = await setup();
    await gw.gql(START, { input: { serviceSid: gw.defaultServiceSid, to: "+14155556003", channel: "SMS" } });
    await smsc.until(() => smsc.submitted.length === 1);
    await smsc.until(() => smsc.enquireLinks() >= 2);
    smsc.dropAll();
    // Re-bound without a send asking for it (receipts must keep flowing).
    await smsc.until(() => smsc.binds.length === 2);
    await gw.gql(START, { input: { serviceSid: gw.defaultServiceSid, to: "+14155556004", channel: "SMS" } });
    await smsc.until(() => smsc.submitted.length === 2);
    expect(smsc.submitted[1].pdu.destination_addr).toBe("14155556004");
  });

  it("a refused bind leaves the message queued for a retry", async () => {
    const { gw, smsc } = await setup({}, { systemId: "verigate", password: "wrong" });
    const started = await gw.gql(START, { input: { serviceSid: gw.defaultServiceSid, to: "+14155556005", channel: "SMS" } });
    await smsc.until(() => smsc.binds.length >= 1);
    await gw.app.dispatcher.idle();
    expect(smsc.binds[0].ok).toBe(false);
    expect(smsc.submitted).toHaveLength(0);
    const read = await gw.gql(ATTEMPTS, { sid: started.data?.startVerification.verification.sid });
    expect(read.data?.verification.sendCodeAttempts[0].status).toBe("QUEUED");
    expect(gw.logs()).toMatch(/SMPP bind refused/);
  });
});
