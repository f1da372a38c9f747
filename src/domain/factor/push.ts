import { type KeyObject, createPublicKey, verify as cryptoVerify } from "node:crypto";
import { compactVerify, errors, jwtVerify } from "jose";
import { z } from "zod";
import { invalidParameter } from "../errors.js";
import type { Challenge } from "../types.js";

/**
 * Push factors, Twilio Verify Push's way: the device holds a P-256 key; everything it says (its proof of
 * possession, its device tokens, its answers) is a compact ES256 JWS the server checks against the key
 * registered with the factor.
 */

export const pushSettingsInput = z.object({
  publicKey: z.string().trim().min(1).max(1024),
  alg: z.literal("ES256").nullish(),
  notificationPlatform: z.enum(["WEBPUSH", "FCM", "APN", "NONE"]).nullish(),
  notificationToken: z.string().trim().min(1).max(4096).nullish(),
  webPushSubscription: z
    .object({
      endpoint: z.url({ protocol: /^https?$/ }).max(2048),
      keys: z.object({ p256dh: z.string().min(1).max(512), auth: z.string().min(1).max(512) }),
    })
    .nullish(),
  silentApproval: z.boolean().nullish(),
});

/** What updateFactor may change of a push factor: how its device is notified (the key and silent approval stay). */
export const pushUpdateInput = pushSettingsInput.pick({ notificationPlatform: true, notificationToken: true, webPushSubscription: true });

/** The device key: base64 DER SubjectPublicKeyInfo of a P-256 key, nothing else. */
export function parseDeviceKey(base64: string): KeyObject {
  let key: KeyObject;
  try {
    key = createPublicKey({ key: Buffer.from(base64, "base64"), format: "der", type: "spki" });
  } catch {
    throw invalidParameter("push.publicKey", "Invalid parameter `push.publicKey`: expected a base64 DER SubjectPublicKeyInfo.");
  }
  if (key.asymmetricKeyType !== "ec" || key.asymmetricKeyDetails?.namedCurve !== "prime256v1") {
    throw invalidParameter("push.publicKey", "Invalid parameter `push.publicKey`: the key must be a P-256 (ES256) public key.");
  }
  return key;
}

/** Imported keys, by factor: a device calls often, and importing a key costs more than checking a signature. */
export class DeviceKeys {
  private readonly keys = new Map<string, { spki: string; key: KeyObject }>();
  constructor(private readonly limit = 10_000) {}

  get(factorSid: string, spki: string): KeyObject {
    const hit = this.keys.get(factorSid);
    if (hit && hit.spki === spki) return hit.key;
    const key = parseDeviceKey(spki);
    if (this.keys.size >= this.limit) this.keys.delete(this.keys.keys().next().value as string);
    this.keys.set(factorSid, { spki, key });
    return key;
  }
}

/** Device tokens live at most 10 minutes (API.md), counted from their `iat`. */
const DEVICE_TOKEN_MAX_SECONDS = 600;
/** A device clock may run ahead of ours by this much; a token issued further in the future is refused. */
const DEVICE_CLOCK_TOLERANCE_SECONDS = 60;

export type DeviceTokenCheck = { sub: string; expiresAt: number } | { refused: "expired" | "issued in the future" | "lives too long" | "bad signature or claims" };

/**
 * A device token's subject and expiry (epoch ms), or why it is refused. `iat` bounds the life: without the
 * future check, a device could sign `iat` a year ahead and hold a token valid for that year.
 */
export async function verifyDeviceToken(token: string, key: KeyObject, nowMs: number): Promise<DeviceTokenCheck> {
  try {
    const { payload } = await jwtVerify(token, key, { algorithms: ["ES256"], currentDate: new Date(nowMs), clockTolerance: 30, requiredClaims: ["sub", "iat", "exp"] });
    const iat = payload.iat as number;
    const exp = payload.exp as number;
    if (iat > nowMs / 1000 + DEVICE_CLOCK_TOLERANCE_SECONDS) return { refused: "issued in the future" };
    if (exp - iat > DEVICE_TOKEN_MAX_SECONDS) return { refused: "lives too long" };
    return { sub: payload.sub as string, expiresAt: exp * 1000 };
  } catch (error) {
    return { refused: error instanceof errors.JWTExpired ? "expired" : "bad signature or claims" };
  }
}

/** The subject a JWT claims, read before its signature is checked (to find the key that must have signed it). */
export function unverifiedSubject(token: string): string | null {
  const parts = token.split(".");
  if (parts.length !== 3) return null;
  try {
    const payload = JSON.parse(Buffer.from(parts[1], "base64url").toString()) as { sub?: unknown };
    return typeof payload.sub === "string" ? payload.sub : null;
  } catch {
    return null;
  }
}

/** verifyFactor's proof of possession: a JWS by the device key whose `sub` is the factor. */
export async function verifyPossession(jws: string, key: KeyObject, factorSid: string, nowMs: number): Promise<boolean> {
  // Twilio's mobile SDKs prove possession with base64(DER ECDSA P-256 SHA-256 signature over the factor sid).
  if (!jws.includes(".")) return twilioPossession(jws, key, factorSid);
  const payload = await verifiedPayload(jws, key);
  if (!payload || payload.sub !== factorSid) return false;
  if (typeof payload.exp === "number" && payload.exp * 1000 + 30_000 <= nowMs) return false;
  return true;
}

function twilioPossession(signature: string, key: KeyObject, factorSid: string): boolean {
  if (!/^[A-Za-z0-9+/]{16,200}={0,2}$/.test(signature)) return false;
  try {
    return cryptoVerify("sha256", Buffer.from(factorSid), key, Buffer.from(signature, "base64"));
  } catch {
    return false;
  }
}

/** The Challenge fields a push answer signs, in the form this API returns them. */
export const PUSH_SIGNED_FIELDS = ["sid", "factorSid", "serviceSid", "details", "hiddenDetails", "dateCreated", "expiresAt"] as const;
const DATE_FIELDS = new Set<string>(["dateCreated", "expiresAt"]);
/** The same fields as the Twilio-compatible REST API names them (`verify.v2.service.entity.challenge`). */
const TWILIO_NAMES: Record<(typeof PUSH_SIGNED_FIELDS)[number], string> = {
  sid: "sid",
  factorSid: "factor_sid",
  serviceSid: "service_sid",
  details: "details",
  hiddenDetails: "hidden_details",
  dateCreated: "date_created",
  expiresAt: "expiration_date",
};

/** The signed fields by their REST names, in order (Twilio's `Twilio-Verify-Signature-Fields` header). */
export const TWILIO_SIGNED_FIELDS: readonly string[] = PUSH_SIGNED_FIELDS.map((f) => TWILIO_NAMES[f]);

/** What the API returns for each signed field (DateTime as ISO 8601), i.e. what a device signs. */
export function signedValues(challenge: Challenge): Record<string, unknown> {
  const api: Record<string, unknown> = {
    ...challenge,
    dateCreated: new Date(challenge.dateCreated).toISOString(),
    expiresAt: new Date(challenge.expiresAt).toISOString(),
  };
  return Object.fromEntries(PUSH_SIGNED_FIELDS.map((f) => [f, api[f] ?? null]));
}

export type PushAnswer = { ok: true; status: "APPROVED" | "DENIED" } | { ok: false; reason: string };

/**
 * A device's answer: a JWS by the factor's key whose claims carry every signed field with the value the
 * API returned for it (compared parsed, not as strings) plus `status: "approved" | "denied"`.
 */
export async function verifyAnswer(jws: string, key: KeyObject, challenge: Challenge): Promise<PushAnswer> {
  const payload = await verifiedPayload(jws, key);
  if (!payload) return { ok: false, reason: "the signature did not verify with the factor's key" };
  const status = payload.status;
  if (status !== "approved" && status !== "denied") return { ok: false, reason: '`status` must be "approved" or "denied"' };
  const expected = signedValues(challenge);
  for (const field of PUSH_SIGNED_FIELDS) {
    // A device that read the challenge over the REST API signs Twilio's names for the same values.
    const name: string = field in payload ? field : TWILIO_NAMES[field];
    if (!(name in payload)) return { ok: false, reason: `the signed field \`${field}\` is missing` };
    const same = DATE_FIELDS.has(field) ? sameInstant(payload[name], expected[field]) : sameJson(payload[name], expected[field]);
    if (!same) return { ok: false, reason: `the signed field \`${field}\` does not match the challenge` };
  }
  return { ok: true, status: status === "approved" ? "APPROVED" : "DENIED" };
}

async function verifiedPayload(jws: string, key: KeyObject): Promise<Record<string, unknown> | null> {
  try {
    const { payload, protectedHeader } = await compactVerify(jws, key, { algorithms: ["ES256"] });
    if (protectedHeader.typ !== undefined && protectedHeader.typ !== "JWT") return null;
    const claims = JSON.parse(new TextDecoder().decode(payload)) as unknown;
    return claims && typeof claims === "object" && !Array.isArray(claims) ? (claims as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

/** The same instant to the second: Twilio's date format (the REST API's) has no milliseconds. */
function sameInstant(a: unknown, b: unknown): boolean {
  if (typeof a !== "string" && typeof a !== "number") return false;
  const left = new Date(a).getTime();
  return !Number.isNaN(left) && Math.floor(left / 1000) === Math.floor(new Date(b as string).getTime() / 1000);
}

/** Deep equality of JSON values; object keys in any order. */
export function sameJson(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (a === null || b === null || typeof a !== "object" || typeof b !== "object") return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a)) return a.length === (b as unknown[]).length && a.every((v, i) => sameJson(v, (b as unknown[])[i]));
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  return ka.length === kb.length && ka.every((k) => Object.hasOwn(b, k) && sameJson((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
}
