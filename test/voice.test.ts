import { afterEach, describe, expect, it } from "vitest";
import { CHECK, START, type TestGateway, startGateway } from "./support/gateway.js";
import { HTTP_SECRET, startHttpPeer } from "./support/peers.js";

let gw: TestGateway | undefined;
let vendor: Awaited<ReturnType<typeof startHttpPeer>> | undefined;
afterEach(async () => {
  await gw?.close();
  await vendor?.close();
  gw = vendor = undefined;
});

/** XML character references, as an XML parser would decode them. */
const unescape = (text: string) => text.replace(/&#(\d+);/g, (_, n) => String.fromCharCode(Number(n))).replace(/&amp;/g, "&");

/** What a TwiML voice platform does: fetch the URL (POST, form-encoded) and read the XML. */
async function fetchTwiml(url: string, digits?: string) {
  const response = await fetch(unescape(url), {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: digits === undefined ? "CallSid=CA1" : `CallSid=CA1&Digits=${digits}`,
  });
  const xml = await response.text();
  return {
    status: response.status,
    xml,
    says: [...xml.matchAll(/<Say[^>]*>([^<]*)<\/Say>/g)].map((m) => unescape(m[1])),
    action: /<Gather[^>]*action="([^"]+)"/.exec(xml)?.[1],
    digit: /Press (\d) /.exec(xml)?.[1],
    hangsUp: xml.includes("<Hangup/>"),
  };
}

async function placeCall(serviceInput: Record<string, unknown> = {}) {
  vendor = await startHttpPeer(() => ({ status: 200, body: { messageId: "call-1" } }));
  gw = await startGateway({ env: { HTTP_CALL_URL: vendor.url, HTTP_PROVIDER_SECRET: HTTP_SECRET } });
  const service = (await gw.gql(`mutation($i: CreateServiceInput!) { createService(input: $i) { sid } }`, { i: { friendlyName: "Acme", ...serviceInput } })).data?.createService.sid;
  const started = await gw.gql(START, { input: { serviceSid: service, to: "+14155558001", channel: "CALL" } });
  await vendor.until(1);
  const request = vendor.requests[0].json;
  return { gw, service, sid: started.data?.startVerification.verification.sid as string, request };
}

describe("voice call with the keypad challenge", () => {
  it("the vendor gets signed script URLs and no code; a whole call, wrong digit included, reads the code that approves", async () => {
    const { gw, service, sid, request } = await placeCall();
    expect(request).toMatchObject({ channel: "CALL", to: "+14155558001" });
    expect(request.body).toBeUndefined();
    expect(request.answerUrl).toMatch(new RegExp(`^${gw.url}/voice/VL[0-9a-f]{32}/answer\\?sig=`));

    const first = await fetchTwiml(request.answerUrl);
    expect(first.status).toBe(200);
    expect(first.says).toEqual([`Press ${first.digit} to hear your verification code.`]);
    expect(first.xml).toContain('<Gather numDigits="1"');
    expect(first.xml).not.toMatch(/verification code is/);

    const wrongDigit = String((Number(first.digit) % 9) + 1);
    const second = await fetchTwiml(first.action!, wrongDigit);
    expect(second.says[0]).toMatch(/^That was not the right key\. Press \d to hear your verification code\.$/);
    expect(second.action).not.toBe(first.action);

    const third = await fetchTwiml(second.action!, second.digit);
    expect(third.hangsUp).toBe(true);
    const readings = third.says.filter((s) => s.startsWith("Your Acme verification code is: "));
    expect(readings).toHaveLength(3);
    const spoken = /is: ([\d, ]+)\./.exec(readings[0])?.[1];
    expect(spoken).toMatch(/^\d(, \d){5}$/);
    const code = spoken!.replace(/, /g, "");
    const checked = await gw.gql(CHECK, { input: { serviceSid: service, verificationSid: sid, code } });
    expect(checked.data?.checkVerification.verification.status).toBe("APPROVED");

    // Once approved, the script has nothing more to say.
    expect((await fetchTwiml(request.answerUrl)).xml).toMatch(/<Response><Hangup\/><\/Response>/);
  });

  it("three wrong digits hang up without reading the code", async () => {
    const { request } = await placeCall();
    let step = await fetchTwiml(request.answerUrl);
    for (let round = 1; round <= 3; round++) {
      const wrong = String((Number(step.digit) % 9) + 1);
      step = await fetchTwiml(step.action!, wrong);
    }
    expect(step.hangsUp).toBe(true);
    expect(step.says.join(" ")).toBe("That was not the right key. Goodbye.");
    expect(step.action).toBeUndefined();
  });

  it("refuses script URLs whose signature does not match", async () => {
    const { request } = await placeCall();
    const tampered = request.answerUrl.replace("/answer", "/ssml");
    expect((await fetch(tampered)).status).toBe(403);
    const first = await fetchTwiml(request.answerUrl);
    const skipRounds = first.action!.replace("round=1", "round=3");
    expect((await fetchTwiml(skipRounds, first.digit)).status).toBe(403);
  });

  it("without dtmfInputRequired the code is read at once; the SSML rendering reads it as digits", async () => {
    const { request } = await placeCall({ dtmfInputRequired: false });
    const answer = await fetchTwiml(request.answerUrl);
    expect(answer.xml).not.toContain("<Gather");
    expect(answer.says.filter((s) => s.startsWith("Your Acme verification code is:"))).toHaveLength(3);
    const ssml = await (await fetch(request.ssmlUrl)).text();
    expect(ssml).toMatch(/^<\?xml[^>]*>\n<speak version="1.1"/);
    expect(ssml.match(/<say-as interpret-as="digits">\d{6}<\/say-as>/g)).toHaveLength(3);
  });

  it("speaks the callee's language: a French number hears French", async () => {
    vendor = await startHttpPeer(() => ({ status: 200, body: { messageId: "call-2" } }));
    gw = await startGateway({ env: { HTTP_CALL_URL: vendor.url, HTTP_PROVIDER_SECRET: HTTP_SECRET } });
    await gw.gql(START, { input: { serviceSid: gw.defaultServiceSid, to: "+33612345678", channel: "CALL" } });
    await vendor.until(1);
    const answer = await fetchTwiml(vendor.requests[0].json.answerUrl);
    expect(answer.xml).toContain('<Say language="fr">');
    expect(answer.says[0]).toMatch(/^Appuyez sur \d pour entendre votre code de vérification\.$/);
  });
});
