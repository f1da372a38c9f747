import { createCipheriv, createDecipheriv, createHash, createHmac, hkdfSync, randomBytes, randomInt, timingSafeEqual } from "node:crypto";

/**
 * Key material derived from VERIGATE_SECRET with HKDF, one key per purpose, so a leak of one derived
 * key (say, a token signing key) does not expose codes. The `kid` prefix on stored values allows rotation.
 */
export interface Keyring {
  readonly kid: string;
  readonly codeKey: Buffer;
  readonly encryptionKey: Buffer;
  readonly tokenKey: Buffer;
  /** Keys rate-limit counters by recipient or IP without naming them. */
  readonly limitKey: Buffer;
}

export function deriveKeyring(secret: string, kid = "k1"): Keyring {
  const ikm = Buffer.from(secret, "utf8");
  const derive = (info: string) => Buffer.from(hkdfSync("sha256", ikm, Buffer.alloc(0), `verigate:${info}`, 32));
  return { kid, codeKey: derive("code-hmac"), encryptionKey: derive("aes-gcm"), tokenKey: derive("token-hmac"), limitKey: derive("rate-limit-hmac") };
}

/**
 * What a rate-limit counter is keyed by: HMAC of the value (a phone number, an IP…). A bare hash of a
 * phone number is reversed by walking the numbering plan in milliseconds; a keyed one is not, without
 * VERIGATE_SECRET. Every instance shares the secret, so they count the same keys.
 */
export function limitValueHash(keys: Keyring, value: string): string {
  return createHmac("sha256", keys.limitKey).update(value).digest("base64url").slice(0, 32);
}

export const generateSecret = (): string => randomBytes(32).toString("base64url");

/** A numeric code of `length` digits, uniform (randomInt avoids modulo bias). */
export function generateNumericCode(length: number): string {
  let code = "";
  for (let i = 0; i < length; i++) code += randomInt(10).toString();
  return code;
}

/** HMAC-SHA256 of the code bound to the verification sid: a hash from one verification says nothing of another. */
export function hashCode(keys: Keyring, sid: string, code: string): string {
  return `${keys.kid}:${createHmac("sha256", keys.codeKey).update(sid).update("\0").update(code).digest("base64url")}`;
}

export function codeMatches(keys: Keyring, sid: string, code: string, stored: string): boolean {
  const expected = Buffer.from(stored);
  const actual = Buffer.from(hashCode(keys, sid, code));
  return expected.length === actual.length && timingSafeEqual(expected, actual);
}

/** AES-256-GCM with the sid as associated data: a ciphertext moved to another row fails to open. */
export function seal(keys: Keyring, plaintext: string, aad: string): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv("aes-256-gcm", keys.encryptionKey, iv);
  cipher.setAAD(Buffer.from(aad));
  const body = Buffer.concat([cipher.update(plaintext, "utf8"), cipher.final()]);
  return `${keys.kid}:${Buffer.concat([iv, cipher.getAuthTag(), body]).toString("base64url")}`;
}

export function open(keys: Keyring, sealed: string, aad: string): string {
  const raw = Buffer.from(sealed.slice(sealed.indexOf(":") + 1), "base64url");
  const decipher = createDecipheriv("aes-256-gcm", keys.encryptionKey, raw.subarray(0, 12));
  decipher.setAAD(Buffer.from(aad));
  decipher.setAuthTag(raw.subarray(12, 28));
  return Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]).toString("utf8");
}

/** API keys are 256-bit random strings, so a fast hash is enough (no password stretching needed). */
export const hashApiKey = (key: string): string => createHash("sha256").update(key).digest("base64url");

export function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

export function sign(keys: Keyring, payload: string): string {
  return createHmac("sha256", keys.tokenKey).update(payload).digest("base64url");
}
