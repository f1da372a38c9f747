import { existsSync } from "node:fs";
import { type Browser, type Page, chromium } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ACCOUNT_SID, type TwilioGateway, twilioGateway } from "./support.js";

// Twilio's Passkeys endpoints (JSON bodies) through the official SDK; every answer is checked against the
// spec. The whole ceremony runs in Debian's chromium with a virtual WebAuthn authenticator when present.
const CHROMIUM = "/usr/bin/chromium";
const available = existsSync(CHROMIUM);

let t: TwilioGateway;
let serviceSid: string;

beforeAll(async () => {
  t = await twilioGateway();
  serviceSid = (await t.admin.verify.v2.services.create({ friendlyName: "Passkeys from Twilio" })).sid;
});
afterAll(() => t?.close());

const svc = () => t.admin.verify.v2.services(serviceSid);

describe("passkeys endpoints through the twilio SDK", () => {
  it("Passkeys/Factors answers an unverified passkeys factor with WebAuthn creation options", async () => {
    // As the SDK's typings have it (camelCase, sent as given)…
    const factor = await svc().newFactors.create({ friendlyName: "Laptop", identity: "pk-alice", config: { authenticatorAttachment: "platform", userVerification: "required" } });
    expect(factor.sid).toMatch(/^YF[0-9a-f]{32}$/);
    expect(factor).toMatchObject({ accountSid: ACCOUNT_SID, serviceSid, identity: "pk-alice", status: "unverified", factorType: "passkeys", friendlyName: "Laptop" });
    const options = factor.options as { publicKey: Record<string, any> };
    expect(options.publicKey.rp.id).toBe("localhost");
    expect(options.publicKey.user.name).toBe("pk-alice");
    expect(typeof options.publicKey.challenge).toBe("string");
    expect(options.publicKey.pubKeyCredParams).toContainEqual({ type: "public-key", alg: -7 });
    expect(options.publicKey.authenticatorSelection).toMatchObject({ authenticatorAttachment: "platform", userVerification: "required" });
    expect(factor.config).toMatchObject({ relying_party: { id: "localhost" } });
    // …and as the spec writes it (snake_case).
    const spec = await svc().newFactors.create({ friendly_name: "Key", identity: "pk-alice", config: { authenticator_attachment: "cross-platform" } } as never);
    expect((spec.options as { publicKey: Record<string, any> }).publicKey.authenticatorSelection.authenticatorAttachment).toBe("cross-platform");
    await expect(svc().newFactors.create({ identity: "pk-alice" } as never)).rejects.toMatchObject({ status: 400, code: 20001 });
  });

  it("Passkeys/Challenges without a verified passkey answers 60318; a bad body 60200; VerifyFactor with an unknown ceremony 20404", async () => {
    await expect(svc().newChallenge().create({ identity: "pk-nobody" })).rejects.toMatchObject({ code: 60318 });
    const clientDataJSON = Buffer.from(JSON.stringify({ type: "webauthn.create", challenge: "bm90LWEtY2VyZW1vbnk", origin: "http://localhost" })).toString("base64url");
    await expect(svc().newVerifyFactors.update({ id: "x", rawId: "x", type: "public-key", response: { clientDataJSON, attestationObject: "AA" } } as never)).rejects.toMatchObject({ status: 404, code: 20404 });
    await expect(svc().newVerifyFactors.update({ response: { clientDataJSON: "not json" } } as never)).rejects.toMatchObject({ status: 400, code: 60200 });
  });

  it("a username-less Passkeys/Challenges answers request options and a pending challenge", async () => {
    const challenge = await svc().newChallenge().create({});
    expect(challenge.sid).toMatch(/^YC[0-9a-f]{32}$/);
    expect(challenge).toMatchObject({ status: "pending", factorType: "passkeys", identity: null, factorSid: null });
    const options = challenge.options as { publicKey: Record<string, any> };
    expect(options.publicKey).toMatchObject({ rpId: "localhost", allowCredentials: [] });
  });
});

describe.skipIf(!available)("a whole passkey ceremony in chromium, through the twilio SDK", () => {
  let browser: Browser;
  let page: Page;

  beforeAll(async () => {
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"] });
    const context = await browser.newContext();
    page = await context.newPage();
    const cdp = await context.newCDPSession(page);
    await cdp.send("WebAuthn.enable");
    await cdp.send("WebAuthn.addVirtualAuthenticator", {
      options: { protocol: "ctap2", transport: "internal", hasResidentKey: true, hasUserVerification: true, isUserVerified: true, automaticPresenceSimulation: true },
    });
    // The gateway's own origin (as localhost, its default relying party), where the browser library is served.
    await page.goto(`http://localhost:${new URL(t.gw.url).port}/demo`);
  }, 60_000);
  afterAll(() => browser?.close());

  // Source strings, so vitest's transform does not rewrite the browser-side import().
  const inBrowser = (fn: "startRegistration" | "startAuthentication", options: unknown) =>
    page.evaluate(`(async () => {
      const lib = await import("/demo/vendor/simplewebauthn/index.js");
      return lib.${fn}({ optionsJSON: ${JSON.stringify(options)} });
    })()`);

  it("registers (Factors, VerifyFactor), signs in (Challenges, ApproveChallenge), and a replay answers 60322", async () => {
    const factor = await svc().newFactors.create({ friendlyName: "Chromium", identity: "pk-bob" });
    const registration = await inBrowser("startRegistration", (factor.options as { publicKey: unknown }).publicKey);
    const verified = await svc().newVerifyFactors.update(registration as never);
    expect(verified).toMatchObject({ sid: factor.sid, status: "verified", factorType: "passkeys" });

    const challenge = await svc().newChallenge().create({ identity: "pk-bob" });
    expect(challenge).toMatchObject({ status: "pending", identity: "pk-bob", factorSid: factor.sid });
    const assertion = await inBrowser("startAuthentication", (challenge.options as { publicKey: unknown }).publicKey);
    const approved = await svc().approveChallenge.update(assertion as never);
    expect(approved).toMatchObject({ sid: challenge.sid, status: "approved", identity: "pk-bob", factorSid: factor.sid });
    await expect(svc().approveChallenge.update(assertion as never)).rejects.toMatchObject({ status: 403, code: 60322 });
    // The factor is the identity's, as the Entities resource lists it.
    const listed = await svc().entities("pk-bob").factors.list();
    expect(listed.map((f) => [f.sid, f.factorType, f.status])).toEqual([[factor.sid, "passkeys", "verified"]]);
  });
});
