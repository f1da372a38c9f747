import type { Clock } from "../domain/clock.js";
import { ACCESS_PREFIX, ANONYMOUS, CLIENT_PREFIX, type AccessTokenClaims, type ClientTokenClaims, type DeviceKeyLookup, type Principal, unauthenticated } from "../domain/access/principal.js";
export * from "../domain/access/principal.js";
import { hashApiKey, type Keyring, safeEqual, sign } from "../domain/crypto.js";
import type { VerifyError } from "../domain/errors.js";
import { unverifiedSubject, verifyDeviceToken } from "../domain/factor/push.js";
import type { Logger } from "pino";
import { topics } from "../realtime/bus.js";
import type { TokenLife } from "../realtime/live.js";
import type { Store } from "../store/port.js";

/** Where refused tokens are reported: the kind, the reason and the sids involved, never the token. */
export type SecurityLog = Pick<Logger, "info" | "warn">;

type Refusal = { tokenKind: Principal["kind"] | "unknown"; reason: string } & Record<string, string | number>;

export class Authenticator {
  constructor(
    private readonly deps: {
      store: Store;
      keys: Keyring;
      clock: Clock;
      adminKeyHash: () => string | null;
      /** The Twilio-style account sid HTTP Basic pairs with the admin key (REST API). */
      accountSid?: () => string | null;
      deviceKey?: DeviceKeyLookup;
      log?: SecurityLog;
    },
  ) {}

  /**
   * HTTP Basic as Twilio's SDKs send it (the REST API): the account sid with the admin key, or an API key's
   * sid (SK…) with that key. Anything else is refused, never downgraded.
   */
  async resolveBasic(authorization: string): Promise<Principal> {
    const match = /^Basic\s+([A-Za-z0-9+/=]+)$/i.exec(authorization.trim());
    const decoded = match ? Buffer.from(match[1], "base64").toString("utf8") : "";
    const colon = decoded.indexOf(":");
    if (colon < 0) throw this.refuse({ tokenKind: "unknown", reason: "malformed basic credentials" });
    const username = decoded.slice(0, colon);
    // Twilio's device SDKs send their token as Basic `token:<token>`: the same token as a bearer.
    if (username === "token") return this.resolve(`Bearer ${decoded.slice(colon + 1)}`);
    const hash = hashApiKey(decoded.slice(colon + 1));
    if (username.startsWith("AC")) {
      const admin = this.deps.adminKeyHash();
      const account = this.deps.accountSid?.() ?? null;
      // Both compared whatever the first answer, so a wrong account sid takes as long as a wrong key.
      const accountMatches = account !== null && safeEqual(account, username);
      if (admin && safeEqual(admin, hash) && accountMatches) return { kind: "admin" };
      throw this.refuse({ tokenKind: "admin", reason: "wrong account sid or admin key" });
    }
    const key = await this.deps.store.findApiKeyByHash(hash);
    if (!key || key.sid !== username) throw this.refuse({ tokenKind: "apiKey", reason: "unknown key" });
    if (key.revokedAt !== null) throw this.refuse({ tokenKind: "apiKey", reason: "revoked", keySid: key.sid, serviceSid: key.serviceSid });
    return { kind: "apiKey", keySid: key.sid, serviceSid: key.serviceSid };
  }

  /** Resolves a bearer token; a malformed, unknown, revoked or expired one is refused, never downgraded. */
  async resolve(authorization: string | null | undefined): Promise<Principal> {
    if (!authorization) return ANONYMOUS;
    const match = /^Bearer\s+(\S+)$/i.exec(authorization.trim());
    if (!match) throw this.refuse({ tokenKind: "unknown", reason: "malformed authorization header" });
    const token = match[1];
    if (token.startsWith(CLIENT_PREFIX)) return this.client(token);
    if (token.startsWith(ACCESS_PREFIX)) return this.access(token);
    if (token.startsWith("eyJ")) return this.device(token);
    const hash = hashApiKey(token);
    const admin = this.deps.adminKeyHash();
    if (admin && safeEqual(admin, hash)) return { kind: "admin" };
    const key = await this.deps.store.findApiKeyByHash(hash);
    if (!key) throw this.refuse({ tokenKind: "apiKey", reason: "unknown key" });
    if (key.revokedAt !== null) throw this.refuse({ tokenKind: "apiKey", reason: "revoked", keySid: key.sid, serviceSid: key.serviceSid });
    return { kind: "apiKey", keySid: key.sid, serviceSid: key.serviceSid };
  }

  /**
   * Logs why a token was refused and returns the error to throw. Expiry is the normal end of a token's
   * life (info); a forged, unknown or revoked token is someone trying a key they should not hold (warn).
   */
  private refuse(refusal: Refusal, message?: string): VerifyError {
    const log = this.deps.log;
    if (log) (refusal.reason === "expired" ? log.info : log.warn).call(log, { security: "token_refused", ...refusal }, `${refusal.tokenKind} token refused: ${refusal.reason}`);
    return unauthenticated(message);
  }

  private access(token: string): Principal {
    const [payload, signature] = token.slice(ACCESS_PREFIX.length).split(".");
    if (!payload || !signature || !safeEqual(sign(this.deps.keys, `access:${payload}`), signature)) throw this.refuse({ tokenKind: "access", reason: "bad signature" });
    let claims: AccessTokenClaims;
    try {
      claims = JSON.parse(Buffer.from(payload, "base64url").toString()) as AccessTokenClaims;
    } catch {
      throw this.refuse({ tokenKind: "access", reason: "bad claims" });
    }
    if (typeof claims.exp !== "number" || claims.exp * 1000 <= this.deps.clock.now()) {
      throw this.refuse({ tokenKind: "access", reason: "expired", serviceSid: String(claims.svc) }, "The access token has expired.");
    }
    return { kind: "access", serviceSid: claims.svc, identity: claims.idn, factorType: claims.ft, expiresAt: claims.exp * 1000 };
  }

  /** A device token: compact ES256 JWT `{ sub: factorSid, iat, exp }` (exp − iat ≤ 10 min) by the factor's key. */
  private async device(token: string): Promise<Principal> {
    const claimed = unverifiedSubject(token);
    // The subject is read before the signature is checked: logged only when it has a factor sid's shape.
    const factorSid = claimed && /^YF[0-9a-f]{32}$/.test(claimed) ? claimed : null;
    const found = factorSid && this.deps.deviceKey ? await this.deps.deviceKey(factorSid) : null;
    if (!found || !factorSid) throw this.refuse({ tokenKind: "device", reason: "unknown factor", ...(factorSid ? { factorSid } : {}) });
    const checked = await verifyDeviceToken(token, found.key, this.deps.clock.now());
    if ("refused" in checked || checked.sub !== factorSid) {
      const reason = "refused" in checked ? checked.refused : "subject mismatch";
      throw this.refuse({ tokenKind: "device", reason, factorSid, serviceSid: found.serviceSid }, "The device token is invalid or expired.");
    }
    return { kind: "device", serviceSid: found.serviceSid, factorSid, expiresAt: checked.expiresAt };
  }

  private client(token: string): Principal {
    const [payload, signature] = token.slice(CLIENT_PREFIX.length).split(".");
    if (!payload || !signature || !safeEqual(sign(this.deps.keys, payload), signature)) throw this.refuse({ tokenKind: "client", reason: "bad signature" });
    let claims: ClientTokenClaims;
    try {
      claims = JSON.parse(Buffer.from(payload, "base64url").toString()) as ClientTokenClaims;
    } catch {
      throw this.refuse({ tokenKind: "client", reason: "bad claims" });
    }
    if (typeof claims.exp !== "number" || claims.exp * 1000 <= this.deps.clock.now()) {
      throw this.refuse({ tokenKind: "client", reason: "expired", resourceSid: String(claims.sid), serviceSid: String(claims.svc) }, "The client token has expired.");
    }
    return { kind: "client", resourceSid: claims.sid, serviceSid: claims.svc, expiresAt: claims.exp * 1000 };
  }
}

/**
 * How long a principal's streams may live: an API key until its revocation, a device token until it
 * expires or its factor is deleted, client and access tokens until they expire; the admin key for ever.
 */
export function tokenLife(principal: Principal): TokenLife {
  switch (principal.kind) {
    case "admin":
    case "anonymous":
      return { holder: principal.kind, revokedBy: null, expiresAt: null };
    case "apiKey":
      return { holder: principal.keySid, revokedBy: { topic: topics.resource(principal.keySid), eventTypes: ["api_key.revoked"] }, expiresAt: null };
    case "device":
      return { holder: principal.factorSid, revokedBy: { topic: topics.resource(principal.factorSid), eventTypes: ["factor.deleted"] }, expiresAt: principal.expiresAt };
    case "client":
      return { holder: `client:${principal.resourceSid}`, revokedBy: null, expiresAt: principal.expiresAt };
    case "access":
      return { holder: `access:${principal.serviceSid}:${principal.identity}`, revokedBy: null, expiresAt: principal.expiresAt };
  }
}
