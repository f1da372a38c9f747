import { afterEach, describe, expect, it } from "vitest";
import { CHECK, OUTBOX, START, type TestGateway, startGateway } from "./support/gateway.js";

// PSD2 dynamic linking: a code authorises one amount to one payee. A second start for the same
// recipient with another transaction must not resend the first transaction's code and details.

let gw: TestGateway | undefined;
afterEach(async () => {
  await gw?.close();
  gw = undefined;
});

const READ = `query($sid: ID!) { verification(sid: $sid) { status amount payee } }`;

describe("PSD2 second start", () => {
  it("the same amount and payee resend the same verification; another amount or payee cancels it and starts a new one", async () => {
    gw = await startGateway();
    const g = gw;
    const serviceSid = (await g.gql(`mutation { createService(input: { friendlyName: "Bank", psd2Enabled: true }) { sid } }`)).data?.createService.sid;
    const to = "+14155550150";
    const start = async (amount: string, payee: string) => {
      const r = await g.gql(START, { input: { serviceSid, to, channel: "SMS", amount, payee } });
      expect(r.errors).toBeUndefined();
      await g.app.dispatcher.idle();
      const [message] = (await g.gql(OUTBOX, { to })).data?.devOutbox;
      return { sid: r.data?.startVerification.verification.sid as string, message: message as { body: string; code: string } };
    };
    const first = await start("€10.00", "Acme");
    const resent = await start("€10.00", "Acme");
    expect(resent.sid).toBe(first.sid);
    expect(resent.message.code).toBe(first.message.code);

    const other = await start("€990.00", "Acme");
    expect(other.sid).not.toBe(first.sid);
    expect(other.message.body).toContain("€990.00");
    expect((await g.gql(READ, { sid: first.sid })).data?.verification).toEqual({ status: "CANCELED", amount: "€10.00", payee: "Acme" });
    expect((await g.gql(READ, { sid: other.sid })).data?.verification).toEqual({ status: "PENDING", amount: "€990.00", payee: "Acme" });
    const payee = await start("€990.00", "Mallory");
    expect(payee.sid).not.toBe(other.sid);
    expect((await g.gql(READ, { sid: other.sid })).data?.verification.status).toBe("CANCELED");
    const canceled = await g.sql<{ n: number }>("select count(*) as n from events where type = 'verification.canceled' and resource_sid in (?, ?)", [first.sid, other.sid]);
    expect(Number(canceled[0].n)).toBe(2);

    // The old transaction's code cannot approve anything; the new one's approves the new transaction.
    const stale = await g.gql(CHECK, { input: { serviceSid, verificationSid: first.sid, code: first.message.code, amount: "€10.00", payee: "Acme" } });
    expect(stale.errors?.[0].extensions?.code).toBe("VERIFICATION_CANCELED");
    const checked = await g.gql(CHECK, { input: { serviceSid, to, code: payee.message.code, amount: "€990.00", payee: "Mallory" } });
    expect(checked.data?.checkVerification.verification).toMatchObject({ sid: payee.sid, status: "APPROVED" });
  });
});
