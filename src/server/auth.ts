import type { Clock } from "../domain/clock.js";
import { hashApiKey, type Keyring, safeEqual, sign } from "../domain/crypto.js";
import { VerifyError } from "../domain/errors.js";
import type { KeyObject } from "node:crypto";
import { unverifiedSubject, verifyDeviceToken } from "../domain/factor/push.js";
import type { FactorType } from "../domain/types.js";
import type { Store } from "../store/port.js";

/** Who is calling, and what they may touch (API.md "Authentication"). */
export type Principal =
  | { kind: "anonymous" }
  | { kind: "admin" }
  | { kind: "apiKey"; keySid: string; serviceSid: string }
  | { kind: "client"; resourceSid: string; serviceSid: string }
  /** A device app enrolling: createFactor for one identity and factor type. */
  | { kind: "access"; serviceSid: string; identity: string; factorType: FactorType }
  /** A push device, by a JWT signed with its factor's key: its own factor and challenges. */
  | { kind: "device"; serviceSid: string; factorSid: string };

export const ANONYMOUS: Principal = { kind: "anonymous" };
const CLIENT_PREFIX = "vgc_";
const ACCESS_PREFIX = "vgt_";

export interface AccessTokenClaims {
  svc: string;
  idn: string;
  ft: FactorType;
  /** Expiry, epoch seconds. */
  exp: number;
}

/** Access tokens are stateless too: createFactor for one identity and factor type, 60–300 s. */
export function issueAccessToken(keys: Keyring, claims: AccessTokenClaims): string {
  const payload = Buffer.from(JSON.stringify(claims)).toString("base64url");
  return `${ACCESS_PREFIX}${payload}.${sign(keys, `access:${payload}`)}`;
}

/** Finds a push factor's key by sid, so a device token can be checked. */
export type DeviceKeyLookup = (factorSid: string) => Promise<{ serviceSid: string; key: KeyObject } | null>;

export interface ClientTokenClaims {
  sid: string;
  svc: string;
  /** Expiry, epoch seconds. */
  exp: number;
}

/** Client tokens are stateless: HMAC-signed claims bound to one resource, valid until its expiry + 5 min. */
export function issueClientToken(keys: Keyring, claims: ClientTokenClaims): string {
  const payload = Buffer.from(JSON.stringify(claims)).toString("base64url");
  return `${CLIENT_PREFIX}${payload}.${sign(keys, payload)}`;
}

export class Authenticator {
  constructor(
    private readonly deps: { store: Store; keys: Keyring; clock: Clock; adminKeyHash: () => string | null; deviceKey?: DeviceKeyLookup },
  ) {}

  /** Resolves a bearer token; a malformed, unknown, revoked or expired one is refused, never downgraded. */
  async resolve(authorization: string | null | undefined): Promise<Principal> {
    if (!authorization) return ANONYMOUS;
    const match = /^Bearer\s+(\S+)$/i.exec(authorization.trim());
    if (!match) throw unauthenticated();
    const token = match[1];
    if (token.startsWith(CLIENT_PREFIX)) return this.client(token);
    if (token.startsWith(ACCESS_PREFIX)) return this.access(token);
    if (token.startsWith("eyJ")) return this.device(token);
    const hash = hashApiKey(token);
    const admin = this.deps.adminKeyHash();
    if (admin && safeEqual(admin, hash)) return { kind: "admin" };
    const key = await this.deps.store.findApiKeyByHash(hash);
    if (!key || key.revokedAt !== null) throw unauthenticated();
    return { kind: "apiKey", keySid: key.sid, serviceSid: key.serviceSid };
  }

  private access(token: string): Principal {
    const [payload, signature] = token.slice(ACCESS_PREFIX.length).split(".");
    if (!payload || !signature || !safeEqual(sign(this.deps.keys, `access:${payload}`), signature)) throw unauthenticated();
    let claims: AccessTokenClaims;
    try {
      claims = JSON.parse(Buffer.from(payload, "base64url").toString()) as AccessTokenClaims;
    } catch {
      throw unauthenticated();
    }
    if (typeof claims.exp !== "number" || claims.exp * 1000 <= this.deps.clock.now()) throw unauthenticated("The access token has expired.");
    return { kind: "access", serviceSid: claims.svc, identity: claims.idn, factorType: claims.ft };
  }

  /** A device token: compact ES256 JWT `{ sub: factorSid, iat, exp }` (exp − iat ≤ 10 min) by the factor's key. */
  private async device(token: string): Promise<Principal> {
    const factorSid = unverifiedSubject(token);
    const found = factorSid && this.deps.deviceKey ? await this.deps.deviceKey(factorSid) : null;
    if (!found || !factorSid) throw unauthenticated();
    const claims = await verifyDeviceToken(token, found.key, this.deps.clock.now());
    if (!claims || claims.sub !== factorSid) throw unauthenticated("The device token is invalid or expired.");
    return { kind: "device", serviceSid: found.serviceSid, factorSid };
  }

  private client(token: string): Principal {
    const [payload, signature] = token.slice(CLIENT_PREFIX.length).split(".");
    if (!payload || !signature || !safeEqual(sign(this.deps.keys, payload), signature)) throw unauthenticated();
    let claims: ClientTokenClaims;
    try {
      claims = JSON.parse(Buffer.from(payload, "base64url").toString()) as ClientTokenClaims;
    } catch {
      throw unauthenticated();
    }
    if (typeof claims.exp !== "number" || claims.exp * 1000 <= this.deps.clock.now()) throw unauthenticated("The client token has expired.");
    return { kind: "client", resourceSid: claims.sid, serviceSid: claims.svc };
  }
}

export const unauthenticated = (message = "A valid bearer token is required.") => new VerifyError("UNAUTHENTICATED", message);
export const forbidden = (message = "This token may not call this operation.") => new VerifyError("FORBIDDEN", message);

/** Throws unless someone is authenticated. */
export function requireAuthenticated(principal: Principal): Exclude<Principal, { kind: "anonymous" }> {
  if (principal.kind === "anonymous") throw unauthenticated();
  return principal;
}

/** Admin or a key of the service; client tokens are FORBIDDEN from service-level operations. */
export function requireServiceAccess(principal: Principal, serviceSid: string | null): "in-scope" | "out-of-scope" {
  const p = requireAuthenticated(principal);
  if (p.kind === "admin") return "in-scope";
  if (p.kind === "client" || p.kind === "access" || p.kind === "device") throw forbidden();
  return p.serviceSid === serviceSid ? "in-scope" : "out-of-scope";
}

export function requireAdmin(principal: Principal): void {
  if (requireAuthenticated(principal).kind !== "admin") throw forbidden("Only the admin key may call this operation.");
}

/** May this principal see this resource? Out of scope is answered exactly like unknown. */
export function canSee(principal: Principal, resource: { sid: string; serviceSid: string }): boolean {
  switch (principal.kind) {
    case "admin":
      return true;
    case "apiKey":
      return principal.serviceSid === resource.serviceSid;
    case "client":
      return principal.resourceSid === resource.sid && principal.serviceSid === resource.serviceSid;
    case "device":
      // Its own factor, and the challenges asked of it.
      return principal.serviceSid === resource.serviceSid && (principal.factorSid === resource.sid || principal.factorSid === (resource as { factorSid?: string | null }).factorSid);
    default:
      return false;
  }
}

/** The service a non-admin principal is bound to, used to scope store lookups. */
export const serviceScope = (principal: Principal): string | null => (principal.kind === "admin" || principal.kind === "anonymous" ? null : principal.serviceSid);
