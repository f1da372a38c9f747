import { existsSync } from "node:fs";
import { type Browser, type BrowserContext, type CDPSession, type Page, chromium } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ManualClock } from "../src/domain/clock.js";
import { ADMIN_KEY, type TestGateway, errorCode, startGateway, subscribeWs } from "./support/gateway.js";

// Debian's chromium with a virtual WebAuthn authenticator (Chrome DevTools Protocol), driving the
// gateway's own demo page at http://localhost:<port>/demo — a secure context, so WebAuthn works on http.
const CHROMIUM = "/usr/bin/chromium";
const available = existsSync(CHROMIUM);
if (!available) {
  if (process.env.CI === "true") throw new Error(`${CHROMIUM} is missing: .ci/run installs Debian's chromium`);
  console.log(`${CHROMIUM} not found: the passkey browser tests are skipped (apt-get install -y chromium)`);
}

let gw: TestGateway;
let clock: ManualClock;
let browser: Browser;
let context: BrowserContext;
let page: Page;
let cdp: CDPSession;
let authenticatorId: string;
let origin: string;

const status = (id: string) => page.locator(`#${id}`);
async function click(button: string, output: string, expected: RegExp) {
  await page.click(`#${button}`);
  await page.waitForFunction(([id]) => !["", "…"].includes(document.getElementById(id)?.textContent ?? ""), [output]);
  const text = (await status(output).textContent()) ?? "";
  expect(text).toMatch(expected);
  return text;
}
const counterOf = async (identity: string) =>
  Number((await gw.sql<{ counter: number }>("select counter from factors where identity = ? and status = 'VERIFIED'", [identity]))[0].counter);
/** Runs the browser half of a sign-in for options made by the test (the backend half). */
// A source string, so vitest's transform does not rewrite the browser-side import().
const assertInBrowser = (options: unknown) =>
  page.evaluate(`(async () => {
    const lib = await import("/demo/vendor/simplewebauthn/index.js");
    return lib.startAuthentication({ optionsJSON: ${JSON.stringify(options)} });
  })()`);
const CREATE_CHALLENGE = `mutation($input: CreateChallengeInput!) { createChallenge(input: $input) { clientToken challenge { sid status } passkeyRequestOptions } }`;
const UPDATE_CHALLENGE = `mutation($input: UpdateChallengeInput!) { updateChallenge(input: $input) { sid status identity factorSid } }`;

describe.skipIf(!available)("passkeys in a real browser", () => {
  beforeAll(async () => {
    clock = new ManualClock(Date.now());
    gw = await startGateway({ clock });
    origin = `http://localhost:${new URL(gw.url).port}`;
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"] });
    context = await browser.newContext();
    page = await context.newPage();
    cdp = await context.newCDPSession(page);
    await cdp.send("WebAuthn.enable");
    ({ authenticatorId } = await cdp.send("WebAuthn.addVirtualAuthenticator", {
      options: { protocol: "ctap2", transport: "internal", hasResidentKey: true, hasUserVerification: true, isUserVerified: true, automaticPresenceSimulation: true },
    }));
    await page.goto(`${origin}/demo`);
    await page.fill("#key", ADMIN_KEY);
    await page.fill("#identity", "alice");
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await gw?.close();
  });

  it("serves the demo page and the browser library itself (no CDN)", async () => {
    const html = await (await fetch(`${gw.url}/demo`)).text();
    expect(html).toContain('<script type="module" src="/demo/demo.js">');
    expect(html).not.toMatch(/(src|href)="https?:\/\//);
    const lib = await fetch(`${gw.url}/demo/vendor/simplewebauthn/index.js`);
    expect(lib.headers.get("content-type")).toContain("javascript");
    expect(await lib.text()).toContain("startRegistration");
    expect((await fetch(`${gw.url}/demo/vendor/simplewebauthn/../../package.json`)).status).toBe(404);
  });

  it("registers a passkey, signs in, and signs in again with a growing signature counter", async () => {
    await click("register", "passkey-status", /^Passkey registered: VERIFIED$/);
    await click("signin", "passkey-status", /^Signed in as alice: APPROVED$/);
    const first = await counterOf("alice");
    expect(first).toBeGreaterThan(0);
    await click("signin", "passkey-status", /^Signed in as alice: APPROVED$/);
    expect(await counterOf("alice")).toBeGreaterThan(first);
  });

  it("signs in without a username: the user handle names the entity", async () => {
    await click("signin-any", "passkey-status", /^Signed in as alice: APPROVED$/);
  });

  it("does not register the same authenticator twice (excludeCredentials)", async () => {
    await click("register", "passkey-status", /^Failed: /);
    expect(await gw.sql("select sid from factors where identity = 'alice' and status = 'VERIFIED'")).toHaveLength(1);
  });

  it("challengeUpdated streams the challenge to its client token until it is answered", async () => {
    const created = (await gw.gql(CREATE_CHALLENGE, { input: { serviceSid: gw.defaultServiceSid, identity: "alice" } })).data?.createChallenge;
    const updates = subscribeWs(gw.wsClient(created.clientToken), `subscription($sid: ID!) { challengeUpdated(sid: $sid) { status identity } }`, { sid: created.challenge.sid });
    await updates.waitFor(1);
    const assertion = await assertInBrowser(created.passkeyRequestOptions);
    await gw.gql(UPDATE_CHALLENGE, { input: { sid: created.challenge.sid, passkeyResponse: assertion } }, created.clientToken);
    await updates.done;
    expect(updates.values.map((v) => v.challengeUpdated.status)).toEqual(["PENDING", "APPROVED"]);
  });

  it("a challenge is single use, and expires", async () => {
    const created = await gw.gql(CREATE_CHALLENGE, { input: { serviceSid: gw.defaultServiceSid, identity: "alice", factorType: "PASSKEY", expiresInSeconds: 60 } });
    const { challenge, passkeyRequestOptions, clientToken } = created.data?.createChallenge;
    const assertion = await assertInBrowser(passkeyRequestOptions);
    const approved = await gw.gql(UPDATE_CHALLENGE, { input: { sid: challenge.sid, passkeyResponse: assertion } }, clientToken);
    expect(approved.data?.updateChallenge).toMatchObject({ status: "APPROVED", identity: "alice" });
    const replay = await gw.gql(UPDATE_CHALLENGE, { input: { sid: challenge.sid, passkeyResponse: assertion } }, clientToken);
    expect(replay.errors?.[0].extensions).toMatchObject({ code: "CHALLENGE_ALREADY_RESPONDED", twilioCode: 60322 });

    const late = (await gw.gql(CREATE_CHALLENGE, { input: { serviceSid: gw.defaultServiceSid, identity: "alice", expiresInSeconds: 60 } })).data?.createChallenge;
    const lateAssertion = await assertInBrowser(late.passkeyRequestOptions);
    clock.advance(61_000);
    const expired = await gw.gql(UPDATE_CHALLENGE, { input: { sid: late.challenge.sid, passkeyResponse: lateAssertion } }, late.clientToken);
    expect(expired.errors?.[0].extensions).toMatchObject({ code: "CHALLENGE_EXPIRED", twilioCode: 60323 });
    expect((await gw.gql(`query($sid: ID!) { challenge(sid: $sid) { status } }`, { sid: late.challenge.sid })).data?.challenge.status).toBe("EXPIRED");
  });

  it("refuses an assertion whose counter does not move forward (a cloned authenticator)", async () => {
    const created = (await gw.gql(CREATE_CHALLENGE, { input: { serviceSid: gw.defaultServiceSid, identity: "alice" } })).data?.createChallenge;
    const assertion = await assertInBrowser(created.passkeyRequestOptions);
    // Another copy of the key already signed with a higher counter.
    await gw.sql("update factors set counter = counter + 1000 where identity = 'alice'");
    const refused = await gw.gql(UPDATE_CHALLENGE, { input: { sid: created.challenge.sid, passkeyResponse: assertion } }, created.clientToken);
    expect(refused.errors?.[0].extensions).toMatchObject({ code: "CHALLENGE_VERIFICATION_FAILED", twilioCode: 60324 });
    expect(refused.errors?.[0].message).toMatch(/counter/i);
    await gw.sql("update factors set counter = counter - 1000 where identity = 'alice'");
  });

  it("refuses a response from an origin or for an RP id the service does not allow, with clear codes", async () => {
    const created = (await gw.gql(CREATE_CHALLENGE, { input: { serviceSid: gw.defaultServiceSid, identity: "alice" } })).data?.createChallenge;
    const assertion = await assertInBrowser(created.passkeyRequestOptions);
    await gw.gql(`mutation($s: ID!) { updateService(input: { sid: $s, passkeys: { origins: ["https://shop.example.com"] } }) { sid } }`, { s: gw.defaultServiceSid });
    const wrongOrigin = await gw.gql(UPDATE_CHALLENGE, { input: { sid: created.challenge.sid, passkeyResponse: assertion } }, created.clientToken);
    expect(wrongOrigin.errors?.[0].extensions?.code).toBe("CHALLENGE_VERIFICATION_FAILED");
    expect(wrongOrigin.errors?.[0].message).toMatch(/origin/i);
    await gw.gql(`mutation($s: ID!) { updateService(input: { sid: $s, passkeys: { origins: null, rpId: "example.com" } }) { sid } }`, { s: gw.defaultServiceSid });
    const wrongRp = await gw.gql(UPDATE_CHALLENGE, { input: { sid: created.challenge.sid, passkeyResponse: assertion } }, created.clientToken);
    expect(wrongRp.errors?.[0].extensions?.code).toBe("CHALLENGE_VERIFICATION_FAILED");
    expect(wrongRp.errors?.[0].message).toMatch(/RP ID/i);
    await gw.gql(`mutation($s: ID!) { updateService(input: { sid: $s, passkeys: { rpId: null } }) { passkeys { rpId origins } } }`, { s: gw.defaultServiceSid });
  });

  it("a client token answers its own challenge only, and a service key of another service sees nothing", async () => {
    const one = (await gw.gql(CREATE_CHALLENGE, { input: { serviceSid: gw.defaultServiceSid, identity: "alice" } })).data?.createChallenge;
    const two = (await gw.gql(CREATE_CHALLENGE, { input: { serviceSid: gw.defaultServiceSid, identity: "alice" } })).data?.createChallenge;
    expect(errorCode(await gw.gql(UPDATE_CHALLENGE, { input: { sid: two.challenge.sid, passkeyResponse: {} } }, one.clientToken))).toBe("NOT_FOUND");
    expect((await gw.gql(`query($sid: ID!) { challenge(sid: $sid) { sid } }`, { sid: two.challenge.sid }, one.clientToken)).data?.challenge).toBeNull();
    const other = (await gw.gql(`mutation { createService(input: { friendlyName: "Other" }) { sid } }`)).data?.createService.sid;
    const key = (await gw.gql(`mutation($s: ID!) { createApiKey(input: { serviceSid: $s }) { key } }`, { s: other })).data?.createApiKey.key;
    const factorSid = (await gw.sql<{ sid: string }>("select sid from factors where identity = 'alice'"))[0].sid;
    expect((await gw.gql(`query($sid: ID!) { factor(sid: $sid) { sid } }`, { sid: factorSid }, key)).data?.factor).toBeNull();
    expect(errorCode(await gw.gql(`mutation($sid: ID!) { deleteFactor(sid: $sid) { sid } }`, { sid: factorSid }, key))).toBe("NOT_FOUND");
  });

  it("a sign-in with a removed credential fails", async () => {
    const { credentials } = await cdp.send("WebAuthn.getCredentials", { authenticatorId });
    expect(credentials.length).toBe(1);
    await cdp.send("WebAuthn.removeCredential", { authenticatorId, credentialId: credentials[0].credentialId });
    await click("signin", "passkey-status", /^Failed: /);
    await click("signin-any", "passkey-status", /^Failed: /);
  });

  it("the demo page runs an SMS verification and watches it reach APPROVED live over graphql-ws", async () => {
    await page.fill("#phone", "+14155550199");
    await click("start-sms", "sms-status", /PENDING/);
    await page.waitForFunction(() => /live: PENDING, SMS SENT/.test(document.getElementById("log")?.textContent ?? ""));
    await page.click("#read-outbox");
    await page.waitForFunction(() => /^\d{6}$/.test((document.getElementById("code") as HTMLInputElement).value));
    await page.click("#check-sms");
    await page.waitForFunction(() => /live: APPROVED/.test(document.getElementById("log")?.textContent ?? ""));
    expect(await status("sms-status").textContent()).toMatch(/APPROVED/);
  });
});

describe("passkey API without a browser", () => {
  let local: TestGateway;
  beforeAll(async () => {
    local = await startGateway();
  });
  afterAll(async () => local?.close());

  it("createFactor returns creation options for the service's relying party, excluding nothing yet", async () => {
    const r = await local.gql(`mutation($input: CreateFactorInput!) { createFactor(input: $input) { factor { sid status factorType identity } passkeyCreationOptions } }`, {
      input: { serviceSid: local.defaultServiceSid, identity: "bob", friendlyName: "Bob's laptop", factorType: "PASSKEY", passkey: { residentKey: "REQUIRED", userVerification: "REQUIRED" } },
    });
    const { factor, passkeyCreationOptions: options } = r.data?.createFactor;
    expect(factor).toMatchObject({ status: "UNVERIFIED", factorType: "PASSKEY", identity: "bob" });
    expect(options.rp).toEqual({ name: "Default", id: "localhost" });
    expect(options.user.name).toBe("bob");
    expect(options.user.id).not.toContain("bob");
    expect(options.authenticatorSelection).toMatchObject({ residentKey: "required", userVerification: "required" });
    expect(options.excludeCredentials).toEqual([]);
  });

  it("a bad registration response → FACTOR_VERIFICATION_FAILED; the fifth → TOO_MANY_ATTEMPTS, and the factor stays locked", async () => {
    const created = await local.gql(`mutation($input: CreateFactorInput!) { createFactor(input: $input) { factor { sid } } }`, {
      input: { serviceSid: local.defaultServiceSid, identity: "carol", friendlyName: "x", factorType: "PASSKEY" },
    });
    const sid = created.data?.createFactor.factor.sid;
    const bogus = { id: "AAAA", rawId: "AAAA", type: "public-key", response: { clientDataJSON: "e30", attestationObject: "oA" }, clientExtensionResults: {} };
    const VERIFY = `mutation($input: VerifyFactorInput!) { verifyFactor(input: $input) { status } }`;
    for (let i = 0; i < 4; i++) {
      const r = await local.gql(VERIFY, { input: { sid, passkeyResponse: bogus } });
      expect(r.errors?.[0].extensions).toMatchObject({ code: "FACTOR_VERIFICATION_FAILED", twilioCode: 60311 });
    }
    for (let i = 0; i < 2; i++) expect((await local.gql(VERIFY, { input: { sid, passkeyResponse: bogus } })).errors?.[0].extensions).toMatchObject({ code: "TOO_MANY_ATTEMPTS", twilioCode: 60310 });
    const failures = await local.sql<{ data: string }>("select data from events where resource_sid = ? and type = 'factor.verification_failed' order by seq", [sid]);
    expect(failures.map((r) => JSON.parse(r.data).failedAttempts)).toEqual([1, 2, 3, 4, 5]);
  });

  it("a challenge for an identity without a verified passkey → FACTOR_NOT_VERIFIED", async () => {
    expect((await local.gql(CREATE_CHALLENGE, { input: { serviceSid: local.defaultServiceSid, identity: "nobody" } })).errors?.[0].extensions).toMatchObject({ code: "FACTOR_NOT_VERIFIED", twilioCode: 60318 });
  });

  it("per-service relying party settings are validated and shown", async () => {
    const bad = await local.gql(`mutation($s: ID!) { updateService(input: { sid: $s, passkeys: { origins: ["not an origin"] } }) { sid } }`, { s: local.defaultServiceSid });
    expect(bad.errors?.[0].extensions).toMatchObject({ code: "INVALID_PARAMETER", field: "passkeys.origins.0" });
    const good = await local.gql(`mutation($s: ID!) { updateService(input: { sid: $s, passkeys: { rpId: "Example.com", rpName: "Example", origins: ["https://example.com"], userVerification: "REQUIRED" } }) { passkeys { rpId rpName origins authenticatorAttachment residentKey userVerification } } }`, { s: local.defaultServiceSid });
    expect(good.data?.updateService.passkeys).toEqual({ rpId: "example.com", rpName: "Example", origins: ["https://example.com"], authenticatorAttachment: "ANY", residentKey: "PREFERRED", userVerification: "REQUIRED" });
  });
});
