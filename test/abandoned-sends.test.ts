import { afterEach, describe, expect, it } from "vitest";
import { CHECK, OUTBOX, START, type TestGateway, startGateway } from "./support/gateway.js";

// A crash mid-send leaves a send attempt QUEUED. If the verification reaches a final state before the
// job runs again (the user typed a code that did arrive, or it expired), nobody would ever settle it:
// the attempts log and stats would show it queued forever.

let gw: TestGateway | undefined;
afterEach(async () => {
  await gw?.close();
  gw = undefined;
});

const ATTEMPTS = `query($sid: ID!) { verification(sid: $sid) { status sendCodeAttempts { status errorCode } } }`;

describe("abandoned sends", () => {
  it("after a crash mid-send, the QUEUED attempts of an approved verification settle as UNDELIVERED on restart, with their event", async () => {
    gw = await startGateway();
    const to = "+14155559101";
    const started = await gw.gql(START, { input: { serviceSid: gw.defaultServiceSid, to, channel: "SMS" } });
    const sid = started.data?.startVerification.verification.sid as string;
    expect((await gw.gql(START, { input: { serviceSid: gw.defaultServiceSid, to, channel: "SMS" } })).errors).toBeUndefined();
    await gw.app.dispatcher.idle();
    const code = (await gw.gql(OUTBOX, { to })).data?.devOutbox[0].code;
    expect((await gw.gql(CHECK, { input: { serviceSid: gw.defaultServiceSid, to, code } })).data?.checkVerification.verification.status).toBe("APPROVED");

    // The state a crash leaves: neither send was recorded. One job is gone (an older gateway dropped
    // jobs of final verifications without a word); the other is still there, its dead worker's lease run out.
    const attempts = await gw.sql<{ sid: string }>("select sid from send_attempts where verification_sid = ? order by time", [sid]);
    expect(attempts).toHaveLength(2);
    await gw.sql("update send_attempts set status = 'QUEUED', provider_message_id = null where verification_sid = ?", [sid]);
    const now = Date.now();
    await gw.sql("insert into outbox (kind, ref_sid, run_at, lease_until, tries, created_at) values ('delivery', ?, ?, ?, 1, ?)", [attempts[1].sid, now - 60_000, now - 1_000, now - 60_000]);
    const [{ n: eventsBefore }] = await gw.sql<{ n: number }>("select count(*) as n from events where resource_sid = ? and type = 'delivery.undelivered'", [sid]);
    expect(Number(eventsBefore)).toBe(0);

    await gw.restart();
    await gw.app.dispatcher.idle();
    const read = (await gw.gql(ATTEMPTS, { sid })).data?.verification;
    expect(read).toEqual({
      status: "APPROVED",
      sendCodeAttempts: [
        { status: "UNDELIVERED", errorCode: "abandoned: verification APPROVED" },
        { status: "UNDELIVERED", errorCode: "abandoned: verification APPROVED" },
      ],
    });
    const [{ n: eventsAfter }] = await gw.sql<{ n: number }>("select count(*) as n from events where resource_sid = ? and type = 'delivery.undelivered'", [sid]);
    expect(Number(eventsAfter)).toBe(2);
    expect(await gw.app.store.pendingJobCount()).toBe(0);
    // Nothing was sent again for a verification that is over.
    expect((await gw.gql(OUTBOX, { to })).data?.devOutbox).toHaveLength(2);
  });
});
