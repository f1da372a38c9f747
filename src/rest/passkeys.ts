import { authorize, inScope } from "../domain/access/rules.js";
import { VerifyError, notFound } from "../domain/errors.js";
import type { Challenge, Factor, Service } from "../domain/types.js";
import { invalidRestParameter, missingParameter } from "./errors.js";
import { presentChallenge, presentFactor, scopeOf } from "./factors.js";
import type { RestContext, RestRequest, Route } from "./router.js";

/** The JSON body Twilio's Passkeys endpoints take (the SDK sends `application/json`). */
function bodyOf(request: RestRequest): Record<string, unknown> {
  const body = request.json;
  if (body === undefined) return {};
  if (body === null || typeof body !== "object" || Array.isArray(body)) throw invalidRestParameter("body", "must be a JSON object");
  return body as Record<string, unknown>;
}

/**
 * A body field by the spec's name (`friendly_name`) or the one the SDK's typings make callers write
 * (`friendlyName`: the SDK sends its params object as it is).
 */
function field(body: Record<string, unknown>, name: string): unknown {
  return body[name] ?? body[name.replace(/_([a-z])/g, (_, ch: string) => ch.toUpperCase())];
}

function text(body: Record<string, unknown>, name: string, required = false): string | undefined {
  const value = field(body, name);
  if (value === undefined || value === null || value === "") {
    if (required) throw missingParameter(name);
    return undefined;
  }
  if (typeof value !== "string") throw invalidRestParameter(name, "must be a string");
  return value;
}

/** Twilio's lower-case, dashed WebAuthn words as the domain's (platform → PLATFORM, cross-platform → CROSS_PLATFORM). */
function domainWord(value: unknown, name: string, allowed: readonly string[]): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "string" || !allowed.includes(value)) throw invalidRestParameter(name, `must be one of ${allowed.join(", ")}`);
  return value.toUpperCase().replace(/-/g, "_");
}

async function serviceOf(c: RestContext, serviceSid: string): Promise<Service> {
  return c.gateway.services.require(serviceSid);
}

const passkeyFactor = (f: Factor, c: RestContext, service: Service) => presentFactor(f, c, service);

async function passkeyChallenge(ch: Challenge, c: RestContext, options: unknown) {
  const entity = ch.identity ? await c.gateway.factors.requireEntity(ch.serviceSid, ch.identity).catch(() => null) : null;
  return { ...presentChallenge(ch, entity?.sid ?? null, c), options: options && typeof options === "object" ? options : {} };
}

/**
 * Twilio's Passkeys endpoints (JSON bodies): register (Factors, VerifyFactor) and sign in (Challenges,
 * ApproveChallenge), over PasskeyFlow as GraphQL's createFactor/verifyFactor/createChallenge/updateChallenge.
 * The relying party is the service's (a factor's own `config.relying_party` is not honoured).
 */
export const passkeyRoutes: Route[] = [
  {
    method: "POST",
    path: "/v2/Services/{ServiceSid}/Passkeys/Factors",
    handle: async (request, c) => {
      const { ServiceSid: serviceSid } = request.path;
      const body = bodyOf(request);
      const identity = text(body, "identity", true) as string;
      const friendlyName = text(body, "friendly_name", true) as string;
      const p = authorize(c.principal, "createFactor");
      if (p.kind === "access") {
        if (p.serviceSid !== serviceSid || p.identity !== identity.trim() || p.factorType !== "PASSKEY")
          throw new VerifyError("FORBIDDEN", "This access token enrols another identity or factor type.");
      } else if (!inScope(p, serviceSid)) {
        throw notFound("Service");
      }
      const config = (body.config ?? {}) as Record<string, unknown>;
      if (typeof config !== "object" || config === null || Array.isArray(config)) throw invalidRestParameter("config", "must be an object");
      const preference = ["required", "preferred", "discouraged"] as const;
      const created = await c.gateway.factors.createFactor({
        serviceSid,
        identity,
        friendlyName,
        factorType: "PASSKEY",
        passkey: {
          authenticatorAttachment: domainWord(field(config, "authenticator_attachment"), "config.authenticator_attachment", ["platform", "cross-platform", "any"]),
          residentKey: domainWord(field(config, "discoverable_credentials"), "config.discoverable_credentials", preference),
          userVerification: domainWord(field(config, "user_verification"), "config.user_verification", preference),
        },
      });
      const service = await serviceOf(c, serviceSid);
      return { status: 201, body: { ...passkeyFactor(created.factor, c, service), binding: null, options: { publicKey: created.passkeyCreationOptions } } };
    },
  },
  {
    method: "POST",
    path: "/v2/Services/{ServiceSid}/Passkeys/VerifyFactor",
    handle: async (request, c) => {
      const serviceSid = request.path.ServiceSid;
      const scope = scopeOf(authorize(c.principal, "verifyFactor"));
      if (scope.serviceSid && scope.serviceSid !== serviceSid) throw notFound("Service");
      const body = bodyOf(request);
      if (!body.response) throw missingParameter("response");
      const factor = await c.gateway.passkeys.verifyFactorByResponse(serviceSid, body, scope);
      return { status: 200, body: passkeyFactor(factor, c, await serviceOf(c, serviceSid)) };
    },
  },
  {
    method: "POST",
    path: "/v2/Services/{ServiceSid}/Passkeys/Challenges",
    handle: async (request, c) => {
      const serviceSid = request.path.ServiceSid;
      if (!inScope(authorize(c.principal, "createChallenge"), serviceSid)) throw notFound("Service");
      const body = bodyOf(request);
      const created = await c.gateway.factors.createChallenge({ serviceSid, identity: text(body, "identity"), factorSid: text(body, "factor_sid"), factorType: "PASSKEY" });
      return { status: 201, body: await passkeyChallenge(created.challenge, c, { publicKey: created.passkeyRequestOptions }) };
    },
  },
  {
    method: "POST",
    path: "/v2/Services/{ServiceSid}/Passkeys/ApproveChallenge",
    handle: async (request, c) => {
      const serviceSid = request.path.ServiceSid;
      const scope = scopeOf(authorize(c.principal, "updateChallenge"));
      if (scope.serviceSid && scope.serviceSid !== serviceSid) throw notFound("Service");
      const body = bodyOf(request);
      for (const name of ["id", "rawId", "response"]) if (!body[name]) throw missingParameter(name);
      const challenge = await c.gateway.passkeys.approveByResponse(serviceSid, body, scope);
      return { status: 200, body: await passkeyChallenge(challenge, c, {}) };
    },
  },
];
