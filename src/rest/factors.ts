import { authorize, inScope } from "../domain/access/rules.js";
import { type Principal, issueAccessToken } from "../domain/access/principal.js";
import { VerifyError, notFound } from "../domain/errors.js";
import { newSid } from "../domain/ids.js";
import type { FactorView, Scope } from "../domain/factor/factors.js";
import { TWILIO_SIGNED_FIELDS } from "../domain/factor/push.js";
import type { EntityRecord } from "../domain/ports/index.js";
import type { Challenge, ChallengeStatus, Factor, Service } from "../domain/types.js";
import { RestError, invalidRestParameter, missingParameter, unsupported } from "./errors.js";
import type { Params } from "./form.js";
import { type RestContext, type Route, iso, listPage } from "./router.js";
import { scopedService } from "./services.js";

/** Twilio's factor types, as Verigate names them. */
const twilioType: Record<string, string> = { TOTP: "totp", PUSH: "push", PASSKEY: "passkeys" };

const entityUrl = (c: RestContext, serviceSid: string, identity: string) => `${c.base}/v2/Services/${serviceSid}/Entities/${encodeURIComponent(identity)}`;

/** An entity as Twilio's `verify.v2.service.entity`. */
export function presentEntity(e: EntityRecord, c: RestContext) {
  const url = entityUrl(c, e.serviceSid, e.identity);
  return {
    sid: e.sid,
    identity: e.identity,
    account_sid: c.accountSid,
    service_sid: e.serviceSid,
    date_created: iso(e.dateCreated),
    date_updated: iso(e.dateCreated),
    url,
    links: { factors: `${url}/Factors`, new_factors: `${url}/Factors`, challenges: `${url}/Challenges` },
  };
}

/** A factor's `config` as Twilio shows it (TOTP: its parameters; push: its notification platform; passkeys: the relying party). */
function configOf(f: FactorView, c: RestContext, service: Service | null) {
  if (f.config?.totp) {
    const t = f.config.totp;
    return { time_step: t.timeStep, skew: t.skew, code_length: t.codeLength, alg: t.algorithm.toLowerCase() };
  }
  if (f.config?.push) {
    const p = f.config.push;
    return { sdk_version: null, app_id: null, notification_platform: p.notificationPlatform.toLowerCase(), notification_token: p.notificationToken };
  }
  if (f.factorType === "PASSKEY" && service) return passkeysConfig(c, service);
  return null;
}

/** The service's relying party (with Verigate's defaults filled in) as Twilio's passkeys `config`. */
export function passkeysConfig(c: RestContext, service: Service) {
  const rp = c.gateway.passkeys.relyingParty(service);
  const word = (v: string) => v.toLowerCase().replace(/_/g, "-");
  return {
    relying_party: { id: rp.rpId, name: rp.rpName, origins: rp.origins },
    authenticator_attachment: word(rp.settings.authenticatorAttachment),
    discoverable_credentials: word(rp.settings.residentKey),
    user_verification: word(rp.settings.userVerification),
  };
}

/** A factor as Twilio's `verify.v2.service.entity.factor`. */
export function presentFactor(f: FactorView | (Factor & { config?: undefined }), c: RestContext, service: Service | null = null) {
  return {
    sid: f.sid,
    account_sid: c.accountSid,
    service_sid: f.serviceSid,
    entity_sid: f.entitySid,
    identity: f.identity,
    date_created: iso(f.dateCreated),
    date_updated: iso(f.dateUpdated),
    friendly_name: f.friendlyName,
    status: f.status.toLowerCase(),
    factor_type: twilioType[f.factorType] ?? f.factorType.toLowerCase(),
    config: f.config === undefined ? (f.factorType === "PASSKEY" && service ? passkeysConfig(c, service) : null) : configOf(f as FactorView, c, service),
    metadata: null,
    url: `${entityUrl(c, f.serviceSid, f.identity)}/Factors/${f.sid}`,
  };
}

/** A challenge as Twilio's `verify.v2.service.entity.challenge`. */
export function presentChallenge(ch: Challenge, entitySid: string | null, c: RestContext) {
  const url = ch.identity ? `${entityUrl(c, ch.serviceSid, ch.identity)}/Challenges/${ch.sid}` : `${c.base}/v2/Services/${ch.serviceSid}/Passkeys/Challenges`;
  return {
    sid: ch.sid,
    account_sid: c.accountSid,
    service_sid: ch.serviceSid,
    entity_sid: entitySid,
    identity: ch.identity,
    factor_sid: ch.factorSid,
    date_created: iso(ch.dateCreated),
    date_updated: iso(ch.dateResponded ?? ch.dateCreated),
    date_responded: iso(ch.dateResponded),
    expiration_date: iso(ch.expiresAt),
    status: ch.status.toLowerCase(),
    responded_reason: "none",
    details: ch.details ? { message: ch.details.message, fields: ch.details.fields } : null,
    hidden_details: ch.hiddenDetails,
    metadata: null,
    factor_type: twilioType[ch.factorType] ?? ch.factorType.toLowerCase(),
    url,
    links: { notifications: `${url}/Notifications` },
  };
}

/** What a caller may touch: admin everything, a key its service, a client token one challenge, a device its factor. */
export function scopeOf(p: Exclude<Principal, { kind: "anonymous" | "access" }>): Scope {
  switch (p.kind) {
    case "admin":
      return { serviceSid: null };
    case "apiKey":
      return { serviceSid: p.serviceSid };
    case "client":
      return { serviceSid: p.serviceSid, challengeSid: p.resourceSid };
    case "device":
      return { serviceSid: p.serviceSid, factorSid: p.factorSid };
  }
}

/** The service of the path, for an operation whose callers are bound to a service. */
function requireServiceScope(p: Exclude<Principal, { kind: "anonymous" }>, serviceSid: string): void {
  if (!inScope(p, serviceSid)) throw notFound("Service");
}

/** A factor of the path's service and identity, in the caller's scope (anything else reads as unknown). */
async function pathFactor(c: RestContext, path: Record<string, string>, scope: Scope): Promise<FactorView> {
  if (scope.serviceSid && scope.serviceSid !== path.ServiceSid) throw notFound("Factor");
  const factor = await c.gateway.factors.describeFactor(path.Sid, { ...scope, serviceSid: path.ServiceSid });
  if (factor.identity !== path.Identity) throw notFound("Factor");
  return factor;
}

/** A challenge of the path's service and identity the caller may see. */
async function pathChallenge(c: RestContext, path: Record<string, string>, sid: string, scope: Scope): Promise<Challenge> {
  const challenge = await c.gateway.factors.getChallenge(sid);
  if (
    !challenge ||
    challenge.serviceSid !== path.ServiceSid ||
    challenge.identity !== path.Identity ||
    (scope.serviceSid && challenge.serviceSid !== scope.serviceSid) ||
    (scope.factorSid && challenge.factorSid !== scope.factorSid) ||
    (scope.challengeSid && challenge.sid !== scope.challengeSid)
  ) {
    throw notFound("Challenge");
  }
  return challenge;
}

const entitySidOf = async (c: RestContext, serviceSid: string, identity: string | null) =>
  identity ? ((await c.gateway.factors.requireEntity(serviceSid, identity).catch(() => null))?.sid ?? null) : null;

/** Twilio's factor creation parameters as the domain's createFactor input. */
function factorInput(serviceSid: string, identity: string, p: Params) {
  const friendlyName = p.required("FriendlyName");
  const type = p.choice("FactorType", ["push", "totp", "passkeys"] as const, { required: true }) as string;
  if (type === "passkeys") throw unsupported("FactorType=passkeys on this path (use /Passkeys/Factors)");
  if (p.has("Binding.Secret")) throw unsupported("A TOTP seed chosen by the caller (Binding.Secret)");
  const metadata = p.json("Metadata");
  if (type === "push") {
    const publicKey = p.string("Binding.PublicKey");
    if (!publicKey) throw missingParameter("Binding.PublicKey");
    const alg = p.string("Binding.Alg");
    if (alg !== undefined && alg !== "ES256") throw invalidRestParameter("Binding.Alg", "must be ES256");
    const platform = p.choice("Config.NotificationPlatform", ["apn", "fcm", "none"] as const);
    return {
      serviceSid,
      identity,
      friendlyName,
      factorType: "PUSH",
      metadata,
      push: { publicKey, alg: "ES256", notificationPlatform: platform?.toUpperCase() ?? "NONE", notificationToken: p.string("Config.NotificationToken") },
    };
  }
  const algorithm = p.choice("Config.Alg", ["sha1", "sha256", "sha512"] as const);
  return {
    serviceSid,
    identity,
    friendlyName,
    factorType: "TOTP",
    metadata,
    totp: { timeStep: p.int("Config.TimeStep"), codeLength: p.int("Config.CodeLength"), skew: p.int("Config.Skew"), algorithm: algorithm?.toUpperCase() },
  };
}

/**
 * Twilio's factor update parameters as the domain's updateFactor input (null: none given). Push and TOTP
 * settings go under their own keys whatever the factor's type: the domain refuses another type's.
 * `Config.SdkVersion` and `Config.AppId` are accepted and not kept.
 */
function factorChanges(p: Params): Record<string, unknown> | null {
  const friendlyName = p.string("FriendlyName");
  const platform = p.choice("Config.NotificationPlatform", ["apn", "fcm", "none"] as const);
  const notificationToken = p.string("Config.NotificationToken");
  const algorithm = p.choice("Config.Alg", ["sha1", "sha256", "sha512"] as const);
  const totp = { timeStep: p.int("Config.TimeStep"), codeLength: p.int("Config.CodeLength"), skew: p.int("Config.Skew"), algorithm: algorithm?.toUpperCase() };
  const push = { notificationPlatform: platform?.toUpperCase(), notificationToken };
  const given = (o: Record<string, unknown>) => Object.values(o).some((v) => v !== undefined);
  if (friendlyName === undefined && !given(push) && !given(totp)) return null;
  return { friendlyName, push: given(push) ? push : undefined, totp: given(totp) ? totp : undefined };
}

/** Twilio's `ExpirationDate` as seconds from now (default 300, as Twilio's 5 minutes). */
function expiresIn(p: Params, now: number): number | undefined {
  const raw = p.string("ExpirationDate");
  if (raw === undefined) return undefined;
  const at = Date.parse(raw);
  if (Number.isNaN(at)) throw invalidRestParameter("ExpirationDate", "must be an ISO 8601 date");
  const seconds = Math.round((at - now) / 1000);
  if (seconds < 1 || seconds > 3600) throw invalidRestParameter("ExpirationDate", "must be between now and one hour from now");
  return seconds;
}

function detailsOf(p: Params) {
  const message = p.string("Details.Message", { max: 1024 });
  const rawFields = p.list("Details.Fields", { maxItems: 20 });
  if (message === undefined) {
    if (rawFields?.length) throw missingParameter("Details.Message");
    return undefined;
  }
  const fields = (rawFields ?? []).map((raw) => {
    let value: unknown;
    try {
      value = JSON.parse(raw);
    } catch {
      throw invalidRestParameter("Details.Fields", "each must be a JSON object { label, value }");
    }
    const f = value as { label?: unknown; value?: unknown };
    if (!f || typeof f !== "object" || typeof f.label !== "string" || typeof f.value !== "string") throw invalidRestParameter("Details.Fields", "each must be a JSON object { label, value }");
    return { label: f.label, value: f.value };
  });
  return { message, fields };
}

const challengeStatuses = ["pending", "expired", "approved", "denied"] as const;

export const entityRoutes: Route[] = [
  {
    method: "POST",
    path: "/v2/Services/{ServiceSid}/Entities",
    handle: async ({ path, params }, c) => {
      await scopedService(c, path.ServiceSid, "updateService");
      const { entity, created } = await c.gateway.factors.createEntity(path.ServiceSid, params.required("Identity"));
      if (!created) throw new RestError(409, 60301, `Entity ${entity.identity} already exists.`);
      return { status: 201, body: presentEntity(entity, c) };
    },
  },
  {
    method: "GET",
    path: "/v2/Services/{ServiceSid}/Entities",
    handle: async (request, c) => {
      const service = await scopedService(c, request.path.ServiceSid);
      return listPage(
        request,
        c,
        "entities",
        (page) => c.gateway.factors.listEntities(service.sid, page),
        (e) => presentEntity(e, c),
      );
    },
  },
  {
    method: "GET",
    path: "/v2/Services/{ServiceSid}/Entities/{Identity}",
    handle: async ({ path }, c) => {
      const service = await scopedService(c, path.ServiceSid);
      return { status: 200, body: presentEntity(await c.gateway.factors.requireEntity(service.sid, path.Identity), c) };
    },
  },
  {
    method: "DELETE",
    path: "/v2/Services/{ServiceSid}/Entities/{Identity}",
    handle: async ({ path }, c) => {
      const service = await scopedService(c, path.ServiceSid, "updateService");
      await c.gateway.factors.deleteEntity(service.sid, path.Identity);
      return { status: 204 };
    },
  },
];

export const factorRoutes: Route[] = [
  {
    method: "POST",
    path: "/v2/Services/{ServiceSid}/Entities/{Identity}/Factors",
    handle: async ({ path, params }, c) => {
      const p = authorize(c.principal, "createFactor");
      const input = factorInput(path.ServiceSid, path.Identity, params);
      if (p.kind === "access") {
        // An enrolling device: only its identity, its factor type, its service.
        if (p.serviceSid !== path.ServiceSid || p.identity !== path.Identity.trim() || p.factorType !== input.factorType) {
          throw new VerifyError("FORBIDDEN", "This access token enrols another identity or factor type.");
        }
      } else {
        requireServiceScope(p, path.ServiceSid);
      }
      const created = await c.gateway.factors.createFactor(input);
      const view = await c.gateway.factors.describeFactor(created.factor.sid, { serviceSid: path.ServiceSid });
      const binding = created.totp ? { secret: created.totp.secret, uri: created.totp.uri } : input.push ? { public_key: input.push.publicKey, alg: "ES256" } : null;
      return { status: 201, body: { ...presentFactor(view, c), binding, options: null } };
    },
  },
  {
    method: "GET",
    path: "/v2/Services/{ServiceSid}/Entities/{Identity}/Factors",
    handle: async (request, c) => {
      const service = await scopedService(c, request.path.ServiceSid);
      return listPage(
        request,
        c,
        "factors",
        (page) => c.gateway.factors.listEntityFactors(service.sid, request.path.Identity, page),
        (f) => presentFactor(f, c, service),
      );
    },
  },
  {
    method: "GET",
    path: "/v2/Services/{ServiceSid}/Entities/{Identity}/Factors/{Sid}",
    handle: async ({ path }, c) => {
      const scope = scopeOf(authorize(c.principal, "factor"));
      const factor = await pathFactor(c, path, scope);
      const service = factor.factorType === "PASSKEY" ? await c.gateway.services.require(factor.serviceSid) : null;
      return { status: 200, body: presentFactor(factor, c, service) };
    },
  },
  {
    method: "POST",
    path: "/v2/Services/{ServiceSid}/Entities/{Identity}/Factors/{Sid}",
    handle: async ({ path, params }, c) => {
      const changes = factorChanges(params);
      const authPayload = params.string("AuthPayload", { max: 16_384 });
      const p = authorize(c.principal, changes ? "updateFactor" : "verifyFactor");
      if (changes && authPayload !== undefined) authorize(c.principal, "verifyFactor");
      const scope = scopeOf(p);
      const factor = await pathFactor(c, path, scope);
      const within = { ...scope, serviceSid: path.ServiceSid };
      // Both in one request (Twilio's device SDKs send a new token with their proof): the change first, so a
      // TOTP code made with new parameters verifies; a refused proof leaves the change made.
      if (changes) await c.gateway.factors.updateFactor(factor.sid, changes, within);
      if (authPayload !== undefined) {
        const answer = factor.factorType === "TOTP" ? { code: authPayload } : { authPayload };
        await c.gateway.factors.verifyFactor(factor.sid, within, answer);
      }
      if (!changes && authPayload === undefined) return { status: 200, body: presentFactor(factor, c) };
      return { status: 200, body: presentFactor(await c.gateway.factors.describeFactor(factor.sid, { serviceSid: path.ServiceSid }), c) };
    },
  },
  {
    method: "DELETE",
    path: "/v2/Services/{ServiceSid}/Entities/{Identity}/Factors/{Sid}",
    handle: async ({ path }, c) => {
      const scope = scopeOf(authorize(c.principal, "deleteFactor"));
      const factor = await pathFactor(c, path, scope);
      await c.gateway.factors.deleteFactor(factor.sid, { ...scope, serviceSid: path.ServiceSid });
      return { status: 204 };
    },
  },
];

export const challengeRoutes: Route[] = [
  {
    method: "POST",
    path: "/v2/Services/{ServiceSid}/Entities/{Identity}/Challenges",
    handle: async ({ path, params }, c) => {
      const p = authorize(c.principal, "createChallenge");
      requireServiceScope(p, path.ServiceSid);
      const factorSid = params.required("FactorSid");
      const hiddenDetails = params.json("HiddenDetails");
      const authPayload = params.string("AuthPayload", { max: 16 });
      const { challenge } = await c.gateway.factors.createChallenge({
        serviceSid: path.ServiceSid,
        identity: path.Identity,
        factorSid,
        details: detailsOf(params),
        hiddenDetails,
        expiresInSeconds: expiresIn(params, c.gateway.clock.now()),
      });
      let answered = challenge;
      // Twilio's TOTP shortcut: the code given at creation answers the challenge at once.
      if (authPayload !== undefined) {
        if (challenge.factorType !== "TOTP") throw invalidRestParameter("AuthPayload", "only for totp factors at creation");
        answered = await c.gateway.factors.updateChallenge(challenge.sid, { serviceSid: path.ServiceSid }, { code: authPayload });
      }
      return { status: 201, body: presentChallenge(answered, await entitySidOf(c, path.ServiceSid, path.Identity), c) };
    },
  },
  {
    method: "GET",
    path: "/v2/Services/{ServiceSid}/Entities/{Identity}/Challenges",
    handle: async (request, c) => {
      const { path, params } = request;
      const p = authorize(c.principal, "challenges");
      requireServiceScope(p, path.ServiceSid);
      const status = params.choice("Status", challengeStatuses);
      const order = params.choice("Order", ["asc", "desc"] as const) ?? "asc";
      const asked = params.string("FactorSid") ?? null;
      // A device lists the challenges of its own factor only.
      const factorSid = p.kind === "device" ? p.factorSid : asked;
      if (p.kind === "device" && asked && asked !== p.factorSid) throw notFound("Factor");
      const entitySid = await entitySidOf(c, path.ServiceSid, path.Identity);
      return listPage(
        request,
        c,
        "challenges",
        (page) =>
          c.gateway.factors.listEntityChallenges({ serviceSid: path.ServiceSid, identity: path.Identity, factorSid, status: (status?.toUpperCase() ?? null) as ChallengeStatus | null, order }, page),
        (ch) => presentChallenge(ch, entitySid, c),
      );
    },
  },
  {
    method: "GET",
    path: "/v2/Services/{ServiceSid}/Entities/{Identity}/Challenges/{Sid}",
    handle: async ({ path }, c) => {
      const scope = scopeOf(authorize(c.principal, "challenge"));
      const challenge = await pathChallenge(c, path, path.Sid, scope);
      // What a push device signs its answer over: these fields as this answer gives them, plus `status`.
      const headers = challenge.factorType === "PUSH" ? { "twilio-verify-signature-fields": TWILIO_SIGNED_FIELDS.join(",") } : undefined;
      return { status: 200, body: presentChallenge(challenge, await entitySidOf(c, path.ServiceSid, path.Identity), c), headers };
    },
  },
  {
    method: "POST",
    path: "/v2/Services/{ServiceSid}/Entities/{Identity}/Challenges/{Sid}",
    handle: async ({ path, params }, c) => {
      const scope = scopeOf(authorize(c.principal, "updateChallenge"));
      const current = await pathChallenge(c, path, path.Sid, scope);
      const authPayload = params.string("AuthPayload", { max: 16_384 });
      if (authPayload === undefined) throw missingParameter("AuthPayload");
      const answer = current.factorType === "TOTP" ? { code: authPayload } : { authPayload };
      const updated = await c.gateway.factors.updateChallenge(current.sid, { ...scope, serviceSid: path.ServiceSid }, answer);
      return { status: 200, body: presentChallenge(updated, await entitySidOf(c, path.ServiceSid, path.Identity), c) };
    },
  },
];

/** Twilio's Notifications: the push notice of a pending challenge, sent again (the notice itself is not stored). */
export const notificationRoutes: Route[] = [
  {
    method: "POST",
    path: "/v2/Services/{ServiceSid}/Entities/{Identity}/Challenges/{ChallengeSid}/Notifications",
    handle: async ({ path, params }, c) => {
      const p = authorize(c.principal, "createChallenge");
      requireServiceScope(p, path.ServiceSid);
      const ttl = params.int("Ttl", { min: 0, max: 300 }) ?? 300;
      await pathChallenge(c, path, path.ChallengeSid, { serviceSid: path.ServiceSid });
      const challenge = await c.gateway.factors.notifyAgain(path.ChallengeSid, { serviceSid: path.ServiceSid });
      return {
        status: 201,
        body: {
          sid: newSid("NT"),
          account_sid: c.accountSid,
          service_sid: challenge.serviceSid,
          entity_sid: await entitySidOf(c, path.ServiceSid, path.Identity),
          identity: challenge.identity,
          challenge_sid: challenge.sid,
          priority: "high",
          ttl,
          date_created: iso(c.gateway.clock.now()),
        },
      };
    },
  },
];

/**
 * Access tokens a device app enrols its push factor with. Verigate's tokens are stateless (signed, not
 * stored): the sid names the answer, and fetching a token by sid answers 20404.
 */
export const accessTokenRoutes: Route[] = [
  {
    method: "POST",
    path: "/v2/Services/{ServiceSid}/AccessTokens",
    handle: async ({ path, params }, c) => {
      requireServiceScope(authorize(c.principal, "createAccessToken"), path.ServiceSid);
      const identity = params.required("Identity").trim();
      params.choice("FactorType", ["push"] as const, { required: true });
      const friendlyName = params.string("FactorFriendlyName") ?? null;
      const ttl = params.int("Ttl") ?? 60;
      if (ttl < 60 || ttl > 300) throw new RestError(400, 60305, "Invalid parameter Ttl: must be between 60 and 300.");
      if (identity.length < 1 || identity.length > 256) throw new RestError(400, 60305, "Invalid parameter Identity: 1 to 256 characters.");
      const service = await c.gateway.services.require(path.ServiceSid);
      const now = c.gateway.clock.now();
      const token = issueAccessToken(c.gateway.keys, { svc: service.sid, idn: identity, ft: "PUSH", exp: Math.floor((now + ttl * 1000) / 1000) });
      const sid = newSid("YK");
      return {
        status: 201,
        body: {
          sid,
          account_sid: c.accountSid,
          service_sid: service.sid,
          entity_identity: identity,
          factor_type: "push",
          factor_friendly_name: friendlyName,
          token,
          url: `${c.base}/v2/Services/${service.sid}/AccessTokens/${sid}`,
          ttl,
          date_created: iso(now),
        },
      };
    },
  },
  {
    method: "GET",
    path: "/v2/Services/{ServiceSid}/AccessTokens/{Sid}",
    handle: async ({ path }, c) => {
      requireServiceScope(authorize(c.principal, "createAccessToken"), path.ServiceSid);
      throw new RestError(404, 20404, "Access tokens are not stored by Verigate (they are signed, stateless): keep the token the create answered.");
    },
  },
];

/** Entities, factors and challenges (Twilio's Verify Push and TOTP resources), and access tokens. */
export const factorsRoutes: Route[] = [...entityRoutes, ...factorRoutes, ...challengeRoutes, ...notificationRoutes, ...accessTokenRoutes];
