import { afterAll, beforeAll, describe, expect, it } from "vitest";
import twilio from "twilio";
import { ACCOUNT_SID, type TwilioGateway, twilioGateway } from "./support.js";

// Message templates, one feature over both APIs: made over GraphQL, listed and chosen through the
// official twilio SDK (every answer checked against Twilio's OpenAPI description), read back from the
// dev outbox.
let t: TwilioGateway;
let serviceSid: string;
let otherSid: string;
let phone = 0;
const nextPhone = () => `+1415556${String(1000 + phone++).padStart(4, "0")}`;

const CREATE = `mutation($input: CreateTemplateInput!) { createTemplate(input: $input) { sid serviceSid friendlyName channels translations { locale channel text } } }`;

async function createTemplate(input: Record<string, unknown>, token?: string) {
  return t.gw.gql<{ createTemplate: { sid: string; channels: string[] } }>(CREATE, { input }, token);
}

async function made(input: Record<string, unknown>): Promise<string> {
  const r = await createTemplate(input);
  if (!r.data?.createTemplate) throw new Error(JSON.stringify(r.errors));
  return r.data.createTemplate.sid;
}

/** The newest dev-outbox message to `to`: its body and code. */
async function lastMessage(to: string): Promise<{ body: string; code: string }> {
  for (let i = 0; i < 100; i++) {
    const r = await t.gw.gql<{ devOutbox: { body: string; code: string | null }[] }>("query($to: String) { devOutbox(to: $to, first: 1) { body code } }", { to });
    const m = r.data?.devOutbox[0];
    if (m?.code) return { body: m.body, code: m.code };
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`no message to ${to} in the dev outbox`);
}

beforeAll(async () => {
  t = await twilioGateway();
  serviceSid = (await t.admin.verify.v2.services.create({ friendlyName: "Acme" })).sid;
  otherSid = (await t.admin.verify.v2.services.create({ friendlyName: "Other" })).sid;
});
afterAll(() => t?.close());

describe("message templates", () => {
  let templateSid: string;

  it("creates a template over GraphQL and lists it through the SDK", async () => {
    const r = await createTemplate({
      serviceSid,
      friendlyName: "Login",
      translations: [
        { locale: "en", channel: "SMS", text: "{{friendly_name}} login code: {{code}}. Valid {{ttl_minutes}} min. Ref {{custom.ref}}" },
        { locale: "fr", channel: "SMS", text: "Code {{friendly_name}} : {{ code }}" },
        { locale: "en", channel: "VOICE", text: "Your {{friendly_name}} code is {{code}}" },
      ],
    });
    expect(r.errors).toBeUndefined();
    templateSid = r.data!.createTemplate.sid;
    expect(templateSid).toMatch(/^HJ[0-9a-f]{32}$/);
    expect(r.data!.createTemplate.channels).toEqual(["SMS", "CALL"]);

    const listed = await t.admin.verify.v2.templates.list();
    const mine = listed.find((x) => x.sid === templateSid);
    expect(mine).toMatchObject({ accountSid: ACCOUNT_SID, friendlyName: "Login", channels: ["sms", "voice"] });
    expect(mine?.translations).toMatchObject({
      en: { locale: "en", is_default_translation: true, status: "approved", text: "{{friendly_name}} login code: {{code}}. Valid {{ttl_minutes}} min. Ref {{custom.ref}}" },
      fr: { is_default_translation: false, text: "Code {{friendly_name}} : {{ code }}" },
    });
    // FriendlyName filters; a service key sees its own service's templates only.
    await made({ serviceSid: otherSid, friendlyName: "Login", translations: [{ locale: "en", channel: "SMS", text: "{{code}}" }] });
    expect((await t.admin.verify.v2.templates.list({ friendlyName: "Login" })).length).toBe(2);
    expect(await t.admin.verify.v2.templates.list({ friendlyName: "Nope" })).toEqual([]);
    const key = await t.apiKey(serviceSid);
    const own = await t.withKey(key.sid, key.key).verify.v2.templates.list();
    expect(own.map((x) => x.sid)).toEqual([templateSid]);
    const gql = await t.gw.gql<{ templates: { nodes: { sid: string }[] } }>("query($s: ID!) { templates(serviceSid: $s) { nodes { sid } } }", { s: otherSid }, key.key);
    expect(gql.data?.templates.nodes).toEqual([]);
  });

  it("a start through the SDK with TemplateSid sends the template's words", async () => {
    const to = nextPhone();
    await t.admin.verify.v2.services(serviceSid).verifications.create({ to, channel: "sms", templateSid, templateCustomSubstitutions: JSON.stringify({ ref: "A-17" }) });
    const { body, code } = await lastMessage(to);
    expect(body).toBe(`Acme login code: ${code}. Valid 10 min. Ref A-17`);
    const checked = await t.admin.verify.v2.services(serviceSid).verificationChecks.create({ to, code });
    expect(checked.status).toBe("approved");
  });

  it("a GraphQL start names the template too (templateSid, templateCustomSubstitutions)", async () => {
    const to = nextPhone();
    const START = "mutation($i: StartVerificationInput!) { startVerification(input: $i) { verification { sid } } }";
    const r = await t.gw.gql(START, { i: { serviceSid, to, channel: "SMS", templateSid, templateCustomSubstitutions: { ref: 42 } } });
    expect(r.errors).toBeUndefined();
    const { body, code } = await lastMessage(to);
    expect(body).toBe(`Acme login code: ${code}. Valid 10 min. Ref 42`);
    const missing = await t.gw.gql(START, { i: { serviceSid, to: nextPhone(), channel: "SMS", templateSid } });
    expect(missing.errors?.[0]?.extensions).toMatchObject({ code: "INVALID_PARAMETER", field: "templateCustomSubstitutions" });
  });

  it("chooses the translation by locale, else en; a call reads the code digit by digit", async () => {
    const fr = nextPhone();
    await t.admin.verify.v2.services(serviceSid).verifications.create({ to: fr, channel: "sms", locale: "fr", templateSid, templateCustomSubstitutions: JSON.stringify({ ref: "x" }), customFriendlyName: "Boutique" });
    const m = await lastMessage(fr);
    expect(m.body).toBe(`Code Boutique : ${m.code}`);
    const de = nextPhone();
    await t.admin.verify.v2.services(serviceSid).verifications.create({ to: de, channel: "sms", locale: "de", templateSid, templateCustomSubstitutions: JSON.stringify({ ref: "y" }) });
    const d = await lastMessage(de);
    expect(d.body).toBe(`Acme login code: ${d.code}. Valid 10 min. Ref y`);
    const call = nextPhone();
    await t.admin.verify.v2.services(serviceSid).verifications.create({ to: call, channel: "call", templateSid, templateCustomSubstitutions: JSON.stringify({ ref: "z" }) });
    const c = await lastMessage(call);
    expect(c.body).toBe(`Your Acme code is ${c.code.split("").join(", ")}`);
  });

  it("refuses bad texts with INVALID_PARAMETER naming the field", async () => {
    const cases: [string, string][] = [
      ["Your code is ready", "translations.0.text"],
      ["{{code}} {{unknown}}", "translations.0.text"],
      [`{{code}} ${"x".repeat(1600)}`, "translations.0.text"],
    ];
    for (const [text, field] of cases) {
      const r = await createTemplate({ serviceSid, friendlyName: "Bad", translations: [{ locale: "en", channel: "SMS", text }] });
      expect(r.errors?.[0]?.extensions, text.slice(0, 30)).toMatchObject({ code: "INVALID_PARAMETER", field });
    }
    expect((await createTemplate({ serviceSid, friendlyName: "Bad", translations: [{ locale: "en", channel: "FAX", text: "{{code}}" }] })).errors?.[0]?.extensions).toMatchObject({
      code: "INVALID_PARAMETER",
      field: "translations.0.channel",
    });
    // Worst case: an EMAIL may be far longer than an SMS.
    expect((await createTemplate({ serviceSid, friendlyName: "Long mail", translations: [{ locale: "en", channel: "EMAIL", text: `{{code}} ${"x".repeat(5000)}` }] })).errors).toBeUndefined();
  });

  it("refuses another service's template, a missing substitution and a template without the channel", async () => {
    const foreign = await made({ serviceSid: otherSid, friendlyName: "Theirs", translations: [{ locale: "en", channel: "SMS", text: "{{code}}" }] });
    const start = (params: Record<string, string>) => t.admin.verify.v2.services(serviceSid).verifications.create({ to: nextPhone(), channel: "sms", ...params }).catch((e) => e);
    const refused = await start({ templateSid: foreign });
    expect(refused).toBeInstanceOf(twilio.RestException);
    expect(refused).toMatchObject({ status: 400, code: 60200 });
    expect(await start({ templateSid })).toMatchObject({ status: 400, code: 60200 });
    const email = await t.admin.verify.v2.services(serviceSid).verifications.create({ to: "t@example.com", channel: "email", templateSid }).catch((e) => e);
    expect(email).toMatchObject({ status: 400, code: 60200 });
    const gql = await t.gw.gql("mutation($i: UpdateServiceInput!) { updateService(input: $i) { sid } }", { i: { sid: serviceSid, defaultTemplateSid: foreign } });
    expect(gql.errors?.[0]?.extensions).toMatchObject({ code: "INVALID_PARAMETER", field: "defaultTemplateSid" });
    const rest = await t.admin.verify.v2.services(serviceSid).update({ defaultTemplateSid: foreign }).catch((e) => e);
    expect(rest).toMatchObject({ status: 400, code: 60200 });
  });

  it("uses the service's defaultTemplateSid when a start names none (not for a channel it has no text for)", async () => {
    const plain = await made({ serviceSid, friendlyName: "Plain", translations: [{ locale: "en", channel: "SMS", text: "Code for {{friendly_name}}: {{code}}" }] });
    const updated = await t.admin.verify.v2.services(serviceSid).update({ defaultTemplateSid: plain });
    expect(updated.defaultTemplateSid).toBe(plain);
    const shown = await t.gw.gql<{ service: { defaultTemplateSid: string } }>("query($s: ID!) { service(sid: $s) { defaultTemplateSid } }", { s: serviceSid });
    expect(shown.data?.service.defaultTemplateSid).toBe(plain);
    const to = nextPhone();
    await t.admin.verify.v2.services(serviceSid).verifications.create({ to, channel: "sms" });
    const m = await lastMessage(to);
    expect(m.body).toBe(`Code for Acme: ${m.code}`);
    // EMAIL: the default template has no email text; the built-in words go.
    const mail = "default@example.com";
    await t.admin.verify.v2.services(serviceSid).verifications.create({ to: mail, channel: "email" });
    expect((await lastMessage(mail)).body).not.toContain("Code for");
    // Deleted: the service goes back to the built-in texts.
    const deleted = await t.gw.gql("mutation($sid: ID!) { deleteTemplate(sid: $sid) { sid } }", { sid: plain });
    expect(deleted.errors).toBeUndefined();
    expect((await t.admin.verify.v2.services(serviceSid).fetch()).defaultTemplateSid).toBeNull();
  });

  it("updates a template's texts; a key of another service cannot touch it", async () => {
    const other = await t.apiKey(otherSid);
    const UPDATE = "mutation($i: UpdateTemplateInput!) { updateTemplate(input: $i) { friendlyName translations { locale channel text } } }";
    const foreign = await t.gw.gql(UPDATE, { i: { sid: templateSid, friendlyName: "Hijack" } }, other.key);
    expect(foreign.errors?.[0]?.extensions).toMatchObject({ code: "NOT_FOUND" });
    const r = await t.gw.gql<{ updateTemplate: { friendlyName: string; translations: unknown[] } }>(UPDATE, {
      i: { sid: templateSid, friendlyName: "Login 2", translations: [{ locale: "en", channel: "WHATSAPP", text: "*{{code}}* is your {{friendly_name}} code" }] },
    });
    expect(r.errors).toBeUndefined();
    expect(r.data?.updateTemplate).toEqual({ friendlyName: "Login 2", translations: [{ locale: "en", channel: "WHATSAPP", text: "*{{code}}* is your {{friendly_name}} code" }] });
    const to = nextPhone();
    await t.admin.verify.v2.services(serviceSid).verifications.create({ to, channel: "whatsapp", templateSid });
    const m = await lastMessage(to);
    expect(m.body).toBe(`*${m.code}* is your Acme code`);
    const bad = await t.gw.gql(UPDATE, { i: { sid: templateSid, translations: [{ locale: "en", channel: "SMS", text: "no code" }] } });
    expect(bad.errors?.[0]?.extensions).toMatchObject({ code: "INVALID_PARAMETER", field: "translations.0.text" });
  });
});
