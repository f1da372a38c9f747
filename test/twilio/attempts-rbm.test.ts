import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { HTTP_SECRET, httpPeers } from "../support/peers.js";
import { type TwilioGateway, twilioGateway } from "./support.js";

// An SMS upgraded to RCS is what Twilio calls an "rbm" attempt (RCS Business Messaging): the Attempts
// resource names it so (Twilio's enum has no "rcs"; every answer is checked against its OpenAPI
// description) and its Channel filter finds it. SNA (a data-session check, not a message) is not in
// Twilio's enum either: its attempts stay out of the REST Attempts (GraphQL's verificationAttempts has them).
let t: TwilioGateway;
const peers = httpPeers();

beforeAll(async () => {
  const rcs = await peers.start(() => ({ status: 200, body: { messageId: "rcs-1" } }));
  const sms = await peers.start(() => ({ status: 200, body: { messageId: "sms-1" } }));
  t = await twilioGateway({ env: { HTTP_RCS_URL: rcs.url, HTTP_SMS_URL: sms.url, HTTP_PROVIDER_SECRET: HTTP_SECRET, RCS_CAPABLE_NUMBERS: "+14155557012" } });
});
afterAll(async () => {
  await t?.close();
  await peers.closeAll();
});

describe("Attempts of an SMS sent over RCS", () => {
  it("are rbm attempts, found by Channel=rbm; the plain SMS stays sms", async () => {
    const service = (await t.admin.verify.v2.services.create({ friendlyName: "RCS shop" })).sid;
    const overRcs = await t.admin.verify.v2.services(service).verifications.create({ to: "+14155557012", channel: "sms" });
    const overSms = await t.admin.verify.v2.services(service).verifications.create({ to: "+14155557013", channel: "sms" });
    expect(overRcs.channel).toBe("sms");
    await t.gw.app.dispatcher.idle();
    const all = await t.admin.verify.v2.verificationAttempts.list({ verifyServiceSid: service });
    expect(Object.fromEntries(all.map((a) => [a.verificationSid, a.channel]))).toEqual({ [overRcs.sid]: "rbm", [overSms.sid]: "sms" });
    expect((await t.admin.verify.v2.verificationAttempts.list({ verifyServiceSid: service, channel: "rbm" })).map((a) => a.verificationSid)).toEqual([overRcs.sid]);
    expect((await t.admin.verify.v2.verificationAttempts.list({ verifyServiceSid: service, channel: "sms" })).map((a) => a.verificationSid)).toEqual([overSms.sid]);
    const summary = await t.admin.verify.v2.verificationAttemptsSummary().fetch({ verifyServiceSid: service, channel: "rbm" });
    expect(summary.totalAttempts).toBe(1);
  });
  it("leave SNA attempts out (list, summary, fetch by sid); GraphQL still lists them", async () => {
    const service = t.gw.defaultServiceSid;
    const sna = await t.admin.verify.v2.services(service).verifications.create({ to: "+14155557014", channel: "sna" });
    expect(sna.channel).toBe("sna");
    const listed = await t.admin.verify.v2.verificationAttempts.list({ verificationSid: sna.sid });
    expect(listed).toEqual([]);
    expect((await t.admin.verify.v2.verificationAttemptsSummary().fetch({ verifyServiceSid: service })).totalAttempts).toBe(0);
    const gql = await t.gw.gql(`query($s: ID!, $v: ID) { verificationAttempts(serviceSid: $s, filter: { verificationSid: $v }) { edges { node { attemptSid channel } } } }`, { s: service, v: sna.sid });
    const [edge] = gql.data?.verificationAttempts.edges ?? [];
    expect(edge.node.channel).toBe("SNA");
    expect(await t.admin.verify.v2.verificationAttempts(edge.node.attemptSid).fetch().catch((e) => e)).toMatchObject({ status: 404, code: 20404 });
    const refused = await t.admin.verify.v2.verificationAttempts.list({ channel: "sna" } as never).catch((e) => e);
    expect(refused).toMatchObject({ status: 400, code: 60200 });
  });
});
