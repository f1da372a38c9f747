import type { KeyObject } from "node:crypto";
import { type Keyring, sign } from "../crypto.js";
import { VerifyError } from "../errors.js";
import type { FactorType } from "../types.js";

/** Who is calling, and what they may touch (API.md "Authentication"). */
export type Principal =
  | { kind: "anonymous" }
  | { kind: "admin" }
  | { kind: "apiKey"; keySid: string; serviceSid: string }
  | { kind: "client"; resourceSid: string; serviceSid: string; expiresAt: number }
  /** A device app enrolling: createFactor for one identity and factor type. */
  | { kind: "access"; serviceSid: string; identity: string; factorType: FactorType; expiresAt: number }
  /** A push device, by a JWT signed with its factor's key: its own factor and challenges. */
  | { kind: "device"; serviceSid: string; factorSid: string; expiresAt: number };
// expiresAt (epoch ms): when a token that expires stops working, and every stream it opened ends.

export const ANONYMOUS: Principal = { kind: "anonymous" };
export const CLIENT_PREFIX = "vgc_";
export const ACCESS_PREFIX = "vgt_";

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

export const unauthenticated = (message = "A valid bearer token is required.") => new VerifyError("UNAUTHENTICATED", message);
export const forbidden = (message = "This token may not call this operation.") => new VerifyError("FORBIDDEN", message);
