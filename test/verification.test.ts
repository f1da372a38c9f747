import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CHECK, OUTBOX, START, type TestGateway, errorCode, startAndReadCode, startGateway } from "./support/gateway.js";

let gw: TestGateway;
beforeAll(async () => {
  gw = await startGateway();
});
afterAll(async () => gw.close());

let n = 0;
/** A fresh valid US number per test, so send caps of one test do not touch another. */
const nextPhone = () => `+1415555${String(2000 + n++).padStart(4, "0")}`;
const wrong = (code: string) => (code === "000000" ? "111111" : "000000");

const createService = async (input: Record<string, unknown>) => {
  const created = await gw.gql(`mutation($input: CreateServiceInput!) { createService(input: $input) { sid } }`, { input: { friendlyName: "Shop", ...input } });
  if (created.errors) throw new Error(JSON.stringify(created.errors));
  return created.data!.createService.sid as string;
};

describe("verifications", () => {
  it("delivers the code through the outbox and approves it", async () => {
    const to = nextPhone();
    const { sid, code, started } = await startAndReadCode(gw, { to });
    expect(started.verification).toMatchObject({ status: "PENDING", channel: "SMS", to, valid: false });
    expect(code).toMatch(/^\d{6}$/);
    const outbox = await gw.gql(OUTBOX, { to });
    expect(outbox.data?.devOutbox[0].body).toBe(`Your Default verification code is: ${code}`);
    const checked = await gw.gql(CHECK, { input: { serviceSid: gw.defaultServiceSid, to, code } });
    expect(checked.data?.checkVerification.verification).toEqual({ sid, status: "APPROVED", valid: true });
  });

  it("normalises the phone number to E.164", async () => {
    const started = await gw.gql(START, { input: { serviceSid: gw.defaultServiceSid, to: "+1 (415) 555-3001", channel: "SMS" } });
    expect(started.data?.startVerification.verification.to).toBe("+14155553001");
  });

  it("starting again while pending resends the same code on the same sid, channel switch included", async () => {
    const to = nextPhone();
    const first = await startAndReadCode(gw, { to });
    const again = await gw.gql(START, { input: { serviceSid: gw.defaultServiceSid, to, channel: "WHATSAPP" } });
    const verification = again.data?.startVerification.verification;
    expect(verification.sid).toBe(first.sid);
    expect(verification.channel).toBe("WHATSAPP");
    expect(verification.sendCodeAttempts.map((a: { channel: string }) => a.channel)).toEqual(["SMS", "WHATSAPP"]);
    await gw.app.dispatcher.idle();
    const outbox = await gw.gql(OUTBOX, { to });
    expect(outbox.data?.devOutbox.map((m: { code: string; channel: string }) => [m.channel, m.code])).toEqual([
      ["WHATSAPP", first.code],
      ["SMS", first.code],
    ]);
    const attemptSids = verification.sendCodeAttempts.map((a: { attemptSid: string }) => a.attemptSid);
    expect(new Set(attemptSids).size).toBe(2);
    for (const a of attemptSids) expect(a).toMatch(/^VL[0-9a-f]{32}$/);
  });

  it("a wrong code leaves the verification PENDING with valid false, not an error", async () => {
    const to = nextPhone();
    const { code } = await startAndReadCode(gw, { to });
    const checked = await gw.gql(CHECK, { input: { serviceSid: gw.defaultServiceSid, to, code: wrong(code) } });
    expect(checked.errors).toBeUndefined();
    expect(checked.data?.checkVerification.verification).toMatchObject({ status: "PENDING", valid: false });
  });

  it("5 wrong codes → MAX_ATTEMPTS_REACHED, and the next check fails with MAX_CHECK_ATTEMPTS_REACHED even with the right code", async () => {
    const to = nextPhone();
    const { sid, code } = await startAndReadCode(gw, { to });
    const statuses: string[] = [];
    for (let i = 0; i < 5; i++) {
      const r = await gw.gql(CHECK, { input: { serviceSid: gw.defaultServiceSid, verificationSid: sid, code: wrong(code) } });
      statuses.push(r.data?.checkVerification.verification.status);
    }
    expect(statuses).toEqual(["PENDING", "PENDING", "PENDING", "PENDING", "MAX_ATTEMPTS_REACHED"]);
    const after = await gw.gql(CHECK, { input: { serviceSid: gw.defaultServiceSid, verificationSid: sid, code } });
    expect(after.errors?.[0].extensions).toMatchObject({ code: "MAX_CHECK_ATTEMPTS_REACHED", twilioCode: 60202 });
  });

  it("the send after maxSendAttempts fails with MAX_SEND_ATTEMPTS_REACHED and writes nothing", async () => {
    const to = nextPhone();
    for (let i = 0; i < 5; i++) {
      const r = await gw.gql(START, { input: { serviceSid: gw.defaultServiceSid, to, channel: "SMS" } });
      expect(r.errors).toBeUndefined();
    }
    await gw.app.dispatcher.idle();
    const before = await gw.counts();
    const sixth = await gw.gql(START, { input: { serviceSid: gw.defaultServiceSid, to, channel: "CALL" } });
    expect(sixth.errors?.[0].extensions).toMatchObject({ code: "MAX_SEND_ATTEMPTS_REACHED", twilioCode: 60203 });
    expect(await gw.counts()).toEqual(before);
  });

  it("the send cap counts sends to the same `to` across verifications", async () => {
    const service = await createService({ maxSendAttempts: 2 });
    const to = nextPhone();
    const first = await gw.gql(START, { input: { serviceSid: service, to, channel: "SMS" } });
    await gw.gql(`mutation($sid: ID!) { updateVerification(input: { sid: $sid, status: CANCELED }) { status } }`, { sid: first.data?.startVerification.verification.sid });
    expect((await gw.gql(START, { input: { serviceSid: service, to, channel: "SMS" } })).errors).toBeUndefined();
    expect(errorCode(await gw.gql(START, { input: { serviceSid: service, to, channel: "SMS" } }))).toBe("MAX_SEND_ATTEMPTS_REACHED");
  });

  it("EMAIL delivers to a normalised address and approves", async () => {
    const { code, started } = await startAndReadCode(gw, { to: "Ada.Lovelace@Example.COM", channel: "EMAIL" });
    expect(started.verification.to).toBe("Ada.Lovelace@example.com");
    const outbox = await gw.gql(OUTBOX, { to: "Ada.Lovelace@example.com" });
    expect(outbox.data?.devOutbox[0].body).toContain("Your Default verification code");
    const checked = await gw.gql(CHECK, { input: { serviceSid: gw.defaultServiceSid, to: "ada.lovelace@EXAMPLE.com".replace("ada.lovelace", "Ada.Lovelace"), code } });
    expect(checked.data?.checkVerification.verification.status).toBe("APPROVED");
  });

  it("CALL reads the code digit by digit", async () => {
    const to = nextPhone();
    const { code } = await startAndReadCode(gw, { to, channel: "CALL" });
    const outbox = await gw.gql(OUTBOX, { to });
    expect(outbox.data?.devOutbox[0]).toMatchObject({ channel: "CALL", body: `Your Default verification code is: ${code.split("").join(", ")}.` });
  });

  it("PSD2: amount and payee are required at start, shown in the message and must match at check", async () => {
    const service = await createService({ psd2Enabled: true });
    const to = nextPhone();
    const missing = await gw.gql(START, { input: { serviceSid: service, to, channel: "SMS", amount: "€12.50" } });
    expect(missing.errors?.[0].extensions).toMatchObject({ code: "INVALID_PARAMETER", field: "payee" });
    const started = await gw.gql(START, { input: { serviceSid: service, to, channel: "SMS", amount: "€12.50", payee: "Acme" } });
    const sid = started.data?.startVerification.verification.sid;
    await gw.app.dispatcher.idle();
    const message = (await gw.gql(OUTBOX, { to })).data?.devOutbox[0];
    expect(message.body).toBe(`Your Shop verification code is: ${message.code}. Amount: €12.50. Payee: Acme`);
    const mismatch = await gw.gql(CHECK, { input: { serviceSid: service, verificationSid: sid, code: message.code, amount: "€99.00", payee: "Acme" } });
    expect(mismatch.data?.checkVerification.verification).toMatchObject({ status: "PENDING", valid: false });
    const match = await gw.gql(CHECK, { input: { serviceSid: service, verificationSid: sid, code: message.code, amount: "€12.50", payee: "Acme" } });
    expect(match.data?.checkVerification.verification).toMatchObject({ status: "APPROVED", valid: true });
  });

  it("PSD2 fields on a service without psd2Enabled are refused", async () => {
    const r = await gw.gql(START, { input: { serviceSid: gw.defaultServiceSid, to: nextPhone(), channel: "SMS", amount: "1", payee: "x" } });
    expect(r.errors?.[0].extensions).toMatchObject({ code: "INVALID_PARAMETER", field: "amount" });
  });

  it("custom codes: refused unless the service enables them; delivered and checked when it does", async () => {
    const refused = await gw.gql(START, { input: { serviceSid: gw.defaultServiceSid, to: nextPhone(), channel: "SMS", customCode: "8642" } });
    expect(refused.errors?.[0].extensions).toMatchObject({ code: "INVALID_PARAMETER", field: "customCode", twilioCode: 60200 });
    const service = await createService({ customCodeEnabled: true });
    const to = nextPhone();
    await gw.gql(START, { input: { serviceSid: service, to, channel: "SMS", customCode: "8642" } });
    await gw.app.dispatcher.idle();
    expect((await gw.gql(OUTBOX, { to })).data?.devOutbox[0].code).toBe("8642");
    const checked = await gw.gql(CHECK, { input: { serviceSid: service, to, code: "8642" } });
    expect(checked.data?.checkVerification.verification.status).toBe("APPROVED");
  });

  it("service settings shape the message: codeLength, customFriendlyName, do-not-share warning", async () => {
    const service = await createService({ codeLength: 8, doNotShareWarningEnabled: true });
    const to = nextPhone();
    await gw.gql(START, { input: { serviceSid: service, to, channel: "SMS", customFriendlyName: "Acme Bank" } });
    await gw.app.dispatcher.idle();
    const message = (await gw.gql(OUTBOX, { to })).data?.devOutbox[0];
    expect(message.code).toMatch(/^\d{8}$/);
    expect(message.body).toBe(`Your Acme Bank verification code is: ${message.code}. Don't share this code with anyone; our employees will never ask for the code.`);
  });

  it("appHash puts the SMS in Android SMS Retriever form, and is refused on other channels", async () => {
    const to = nextPhone();
    const { code } = await startAndReadCode(gw, { to, appHash: "He42w354ol9" });
    expect((await gw.gql(OUTBOX, { to })).data?.devOutbox[0].body).toBe(`<#> Your Default verification code is: ${code}\nHe42w354ol9`);
    const email = await gw.gql(START, { input: { serviceSid: gw.defaultServiceSid, to: "a@example.com", channel: "EMAIL", appHash: "He42w354ol9" } });
    expect(email.errors?.[0].extensions).toMatchObject({ code: "INVALID_PARAMETER", field: "appHash" });
  });

  it("updateVerification cancels or approves a pending verification; later checks say which state it is in", async () => {
    const UPDATE = `mutation($sid: ID!, $status: VerificationStatusUpdate!) { updateVerification(input: { sid: $sid, status: $status }) { sid status valid } }`;
    const a = await startAndReadCode(gw, { to: nextPhone() });
    expect((await gw.gql(UPDATE, { sid: a.sid, status: "CANCELED" })).data?.updateVerification).toMatchObject({ status: "CANCELED", valid: false });
    const afterCancel = await gw.gql(CHECK, { input: { serviceSid: gw.defaultServiceSid, verificationSid: a.sid, code: a.code } });
    expect(afterCancel.errors?.[0].extensions).toMatchObject({ code: "VERIFICATION_CANCELED", twilioCode: 20404 });

    const b = await startAndReadCode(gw, { to: nextPhone() });
    expect((await gw.gql(UPDATE, { sid: b.sid, status: "APPROVED" })).data?.updateVerification).toMatchObject({ status: "APPROVED", valid: true });
    const afterApprove = await gw.gql(CHECK, { input: { serviceSid: gw.defaultServiceSid, verificationSid: b.sid, code: b.code } });
    expect(afterApprove.errors?.[0].extensions?.code).toBe("VERIFICATION_ALREADY_APPROVED");
    expect(errorCode(await gw.gql(UPDATE, { sid: b.sid, status: "CANCELED" }))).toBe("VERIFICATION_ALREADY_APPROVED");
    expect(errorCode(await gw.gql(UPDATE, { sid: `VE${"0".repeat(32)}`, status: "CANCELED" }))).toBe("NOT_FOUND");
  });

  it("a new verification starts after the previous one for the same `to` reached a final state", async () => {
    const to = nextPhone();
    const first = await startAndReadCode(gw, { to });
    await gw.gql(CHECK, { input: { serviceSid: gw.defaultServiceSid, to, code: first.code } });
    const second = await gw.gql(START, { input: { serviceSid: gw.defaultServiceSid, to, channel: "SMS" } });
    expect(second.data?.startVerification.verification.sid).not.toBe(first.sid);
  });

  it("a disabled channel answers CHANNEL_DISABLED", async () => {
    const service = await createService({ channels: ["SMS"] });
    const r = await gw.gql(START, { input: { serviceSid: service, to: "a@example.com", channel: "EMAIL" } });
    expect(r.errors?.[0].extensions).toMatchObject({ code: "CHANNEL_DISABLED", twilioCode: 60223 });
  });

  it("skipSmsToLandlines refuses SMS to a fixed line with LANDLINE_NOT_SUPPORTED; lookup shows the line type", async () => {
    const service = await createService({ skipSmsToLandlines: true, lookupEnabled: true });
    // A Paris fixed line (+33 1…) and a French mobile (+33 6…).
    const landline = await gw.gql(START, { input: { serviceSid: service, to: "+33142685300", channel: "SMS" } });
    expect(landline.errors?.[0].extensions).toMatchObject({ code: "LANDLINE_NOT_SUPPORTED", twilioCode: 60205 });
    const mobile = await gw.gql(
      `mutation($input: StartVerificationInput!) { startVerification(input: $input) { verification { lookup { countryCode lineType carrier } } } }`,
      { input: { serviceSid: service, to: "+33612345678", channel: "SMS" } },
    );
    expect(mobile.data?.startVerification.verification.lookup).toEqual({ countryCode: "FR", lineType: "mobile", carrier: null });
  });

  it("lists a service's verifications newest first with Relay pagination and filters", async () => {
    const service = await createService({});
    const tos = [nextPhone(), nextPhone(), nextPhone()];
    for (const to of tos) await gw.gql(START, { input: { serviceSid: service, to, channel: "SMS" } });
    const LIST = `query($s: ID!, $after: String, $filter: VerificationFilter) { verifications(serviceSid: $s, first: 2, after: $after, filter: $filter) { edges { cursor node { to } } nodes { to } pageInfo { hasNextPage endCursor } } }`;
    const page1 = (await gw.gql(LIST, { s: service })).data?.verifications;
    expect(page1.nodes.map((v: { to: string }) => v.to)).toEqual([tos[2], tos[1]]);
    expect(page1.pageInfo.hasNextPage).toBe(true);
    const page2 = (await gw.gql(LIST, { s: service, after: page1.pageInfo.endCursor })).data?.verifications;
    expect(page2.nodes.map((v: { to: string }) => v.to)).toEqual([tos[0]]);
    expect(page2.pageInfo.hasNextPage).toBe(false);
    const filtered = (await gw.gql(LIST, { s: service, filter: { to: tos[1], status: "PENDING" } })).data?.verifications;
    expect(filtered.nodes).toEqual([{ to: tos[1] }]);
    expect(errorCode(await gw.gql(LIST, { s: service, after: "bogus" }))).toBe("INVALID_PARAMETER");
  });

  it("the sendCodeAttempts entry moves from QUEUED to SENT with the provider's message id", async () => {
    const to = nextPhone();
    const started = await gw.gql(START, { input: { serviceSid: gw.defaultServiceSid, to, channel: "SMS" } });
    expect(started.data?.startVerification.verification.sendCodeAttempts[0].status).toBe("QUEUED");
    await gw.app.dispatcher.idle();
    const read = await gw.gql(`query($sid: ID!) { verification(sid: $sid) { sendCodeAttempts { attemptSid status providerMessageId } } }`, {
      sid: started.data?.startVerification.verification.sid,
    });
    const attempt = read.data?.verification.sendCodeAttempts[0];
    expect(attempt.status).toBe("SENT");
    expect(attempt.providerMessageId).toBe(`dev-${attempt.attemptSid}`);
  });
});
