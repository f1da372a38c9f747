import { afterEach, describe, expect, it } from "vitest";
import { CHECK, START, type TestGateway, startGateway } from "./support/gateway.js";
import { startSmtpServer } from "./support/peers.js";

let gw: TestGateway | undefined;
let smtp: Awaited<ReturnType<typeof startSmtpServer>> | undefined;
afterEach(async () => {
  await gw?.close();
  await smtp?.close();
  gw = smtp = undefined;
});

describe("email over SMTP", () => {
  it("a real SMTP server receives the mail; the code read from it approves the verification", async () => {
    smtp = await startSmtpServer({ user: "mailer", pass: "s3cret" });
    gw = await startGateway({ env: { SMTP_URL: `smtp://mailer:s3cret@127.0.0.1:${smtp.port}`, EMAIL_FROM: "Verigate <no-reply@example.com>" } });
    const started = await gw.gql(START, { input: { serviceSid: gw.defaultServiceSid, to: "ada@example.com", channel: "EMAIL" } });
    const verification = started.data?.startVerification.verification;
    await smtp.waitFor(1);
    const mail = smtp.mails[0];
    expect(mail.from?.text).toContain("no-reply@example.com");
    expect((mail.to as { text: string }).text).toBe("ada@example.com");
    expect(mail.subject).toBe("Your Default verification code");
    expect(mail.messageId).toBe(`<${verification.sendCodeAttempts[0].attemptSid}@verigate>`);
    expect(mail.html).toContain("<p");
    const code = /verification code is: (\d{6})/.exec(mail.text ?? "")?.[1];
    expect(code).toMatch(/^\d{6}$/);
    expect(mail.html).toContain(code);

    await gw.app.dispatcher.idle();
    const read = await gw.gql(`query($sid: ID!) { verification(sid: $sid) { sendCodeAttempts { status channel providerMessageId } } }`, { sid: verification.sid });
    expect(read.data?.verification.sendCodeAttempts[0]).toMatchObject({ status: "SENT", channel: "EMAIL" });
    // A real transport: nothing lands in the dev outbox, and the server says which channels still do.
    expect((await gw.gql(`{ devOutbox { to } }`)).data?.devOutbox).toEqual([]);
    expect(gw.logs()).toMatch(/SMS, WHATSAPP, CALL deliver into the dev outbox/);

    const checked = await gw.gql(CHECK, { input: { serviceSid: gw.defaultServiceSid, to: "ada@example.com", code } });
    expect(checked.data?.checkVerification.verification.status).toBe("APPROVED");
  });

  it("words the mail in the requested locale", async () => {
    smtp = await startSmtpServer();
    gw = await startGateway({ env: { SMTP_URL: `smtp://127.0.0.1:${smtp.port}`, EMAIL_FROM: "no-reply@example.com" } });
    await gw.gql(START, { input: { serviceSid: gw.defaultServiceSid, to: "zoe@example.fr", channel: "EMAIL", locale: "fr-CA" } });
    await smtp.waitFor(1);
    expect(smtp.mails[0].subject).toBe("Votre code de vérification Default");
    expect(smtp.mails[0].text).toMatch(/^Votre code de vérification Default est : \d{6}/);
  });

  it("wrong SMTP credentials leave the attempt unsent and retried, never lost", async () => {
    smtp = await startSmtpServer({ user: "mailer", pass: "right" });
    gw = await startGateway({ env: { SMTP_URL: `smtp://mailer:wrong@127.0.0.1:${smtp.port}`, EMAIL_FROM: "no-reply@example.com" } });
    const started = await gw.gql(START, { input: { serviceSid: gw.defaultServiceSid, to: "ada@example.com", channel: "EMAIL" } });
    await gw.app.dispatcher.idle();
    const read = await gw.gql(`query($sid: ID!) { verification(sid: $sid) { sendCodeAttempts { status } } }`, { sid: started.data?.startVerification.verification.sid });
    expect(read.data?.verification.sendCodeAttempts[0].status).toBe("QUEUED");
    expect(await gw.app.store.pendingJobCount()).toBe(1);
    // Operators see the retry waiting in the outbox.
    expect(await (await fetch(`${gw.url}/metrics`)).text()).toMatch(/^verigate_outbox_jobs 1$/m);
    expect(gw.logs()).toMatch(/delivery failed/);
    expect(smtp.mails).toHaveLength(0);
  });
});
