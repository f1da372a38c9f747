import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { OUTBOX, START, type TestGateway, startGateway } from "./support/gateway.js";

let gw: TestGateway;
beforeAll(async () => {
  gw = await startGateway();
});
afterAll(async () => gw.close());

async function messageFor(input: Record<string, unknown>, serviceSid = gw.defaultServiceSid) {
  const started = await gw.gql(START, { input: { serviceSid, channel: "SMS", ...input } });
  if (started.errors) throw new Error(JSON.stringify(started.errors));
  await gw.app.dispatcher.idle();
  const to = started.data?.startVerification.verification.to;
  return (await gw.gql(OUTBOX, { to })).data?.devOutbox[0] as { body: string; code: string };
}

describe("message wording", () => {
  it("a number's country picks the language when no locale is given", async () => {
    expect((await messageFor({ to: "+4915123456789" })).body).toMatch(/^Dein Default-Verifizierungscode lautet: \d{6}$/);
    expect((await messageFor({ to: "+5511987654322" })).body).toMatch(/^Seu código de verificação Default é: \d{6}$/);
    expect((await messageFor({ to: "+819012345678" })).body).toMatch(/^Defaultの認証コードは\d{6}です$/);
  });

  it("an explicit locale wins over the country; an unknown one falls back along its chain, then to the country", async () => {
    expect((await messageFor({ to: "+4915123456788", locale: "es" })).body).toMatch(/^Tu código de verificación de Default es: \d{6}$/);
    expect((await messageFor({ to: "+4915123456787", locale: "fr-CA" })).body).toMatch(/^Votre code de vérification Default est : \d{6}$/);
    expect((await messageFor({ to: "+4915123456786", locale: "xx-YY" })).body).toMatch(/^Dein Default-Verifizierungscode/);
  });

  it("the service's default locale applies where the country has none of ours, then English", async () => {
    const service = (await gw.gql(`mutation { createService(input: { friendlyName: "Bolt", defaultLocale: "it" }) { sid } }`)).data?.createService.sid;
    // +254: Kenya, not in the country table.
    expect((await messageFor({ to: "+254712345678" }, service)).body).toMatch(/^Il tuo codice di verifica Bolt è: \d{6}$/);
  });

  it("PSD2 amount and payee and the do-not-share warning are worded in the message's language", async () => {
    const service = (await gw.gql(`mutation { createService(input: { friendlyName: "Banque", psd2Enabled: true, doNotShareWarningEnabled: true }) { sid } }`)).data?.createService.sid;
    const message = await messageFor({ to: "+33612345670", amount: "49,90 €", payee: "Librairie" }, service);
    expect(message.body).toBe(
      `Votre code de vérification Banque est : ${message.code}. Montant: 49,90 €. Bénéficiaire: Librairie. Ne partagez ce code avec personne ; nos employés ne vous le demanderont jamais.`,
    );
  });

  it("PSD2: every channel that may carry a PSD2 code shows the amount and the payee (SMS, WhatsApp, email)", async () => {
    const service = (await gw.gql(`mutation { createService(input: { friendlyName: "Bank" psd2Enabled: true }) { sid } }`)).data?.createService.sid;
    const sms = await messageFor({ to: "+14155550140", amount: "€12.50", payee: "Acme Books" }, service);
    expect(sms.body).toBe(`Your Bank verification code is: ${sms.code}. Amount: €12.50. Payee: Acme Books`);
    const whatsapp = await messageFor({ to: "+14155550141", channel: "WHATSAPP", amount: "€99", payee: "Shop & Co" }, service);
    expect(whatsapp.body).toBe(`Your Bank verification code is: ${whatsapp.code}. Amount: €99. Payee: Shop & Co`);
    const email = await messageFor({ to: "payer@example.com", channel: "EMAIL", amount: "$5", payee: "<Cafe>" }, service);
    // The dev outbox shows an email as its subject, then its text body.
    expect(email.body).toBe(`Your Bank verification code\n\nYour Bank verification code is: ${email.code}\n\nAmount: $5\nPayee: <Cafe>`);
    // Voice cannot carry a PSD2 code (Twilio's 60214): refused at the start.
    const call = await gw.gql(START, { input: { serviceSid: service, to: "+14155550142", channel: "CALL", amount: "$5", payee: "Cafe" } });
    expect(call.errors?.[0].extensions).toMatchObject({ code: "INVALID_PARAMETER", field: "channel" });
  });

  it("the WebOTP line closes the SMS so browsers can autofill the code", async () => {
    const service = (await gw.gql(`mutation { createService(input: { friendlyName: "Shop", webOtpDomain: "Shop.Example.com" }) { sid webOtpDomain } }`)).data?.createService;
    expect(service.webOtpDomain).toBe("shop.example.com");
    const message = await messageFor({ to: "+14155550123" }, service.sid);
    expect(message.body).toBe(`Your Shop verification code is: ${message.code}\n\n@shop.example.com #${message.code}`);
    const bad = await gw.gql(`mutation { createService(input: { friendlyName: "Shop", webOtpDomain: "https://shop" }) { sid } }`);
    expect(bad.errors?.[0].extensions).toMatchObject({ code: "INVALID_PARAMETER", field: "webOtpDomain" });
    // null leaves it as it is; "" removes it, and the SMS no longer carries the line.
    const kept = await gw.gql(`mutation($s: ID!) { updateService(input: { sid: $s, webOtpDomain: null, codeLength: 6 }) { webOtpDomain } }`, { s: service.sid });
    expect(kept.data?.updateService.webOtpDomain).toBe("shop.example.com");
    const cleared = await gw.gql(`mutation($s: ID!) { updateService(input: { sid: $s, webOtpDomain: "" }) { webOtpDomain } }`, { s: service.sid });
    expect(cleared.errors).toBeUndefined();
    expect(cleared.data?.updateService.webOtpDomain).toBeNull();
    const plain = await messageFor({ to: "+14155550124" }, service.sid);
    expect(plain.body).toBe(`Your Shop verification code is: ${plain.code}`);
  });
});
