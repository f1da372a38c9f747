import { generateSecret, generateURI, verifySync } from "otplib";
import QRCode from "qrcode";
import { z } from "zod";
import type { TotpConfig } from "../types.js";

/** Code lengths allowed: fewer than 6 digits is too easy to guess (RFC 4226 §5.3, ASVS 2.8). */
export const TOTP_CODE_LENGTH = { min: 6, max: 8 } as const;

/** RFC 6238 settings a service may choose (issue 4): step 20–60 s, 6–8 digits, skew 0–2 steps. */
export const totpSettingsInput = z.object({
  timeStep: z.number().int().min(20).max(60).nullish(),
  codeLength: z.number().int().min(TOTP_CODE_LENGTH.min).max(TOTP_CODE_LENGTH.max).nullish(),
  skew: z.number().int().min(0).max(2).nullish(),
  algorithm: z.enum(["SHA1", "SHA256", "SHA512"]).nullish(),
});

export const TOTP_DEFAULTS: TotpConfig = { timeStep: 30, codeLength: 6, skew: 1, algorithm: "SHA1" };

/** A key as long as the hash's output, as RFC 6238 recommends (20, 32 or 64 bytes). */
export function newTotpSecret(config: TotpConfig): string {
  const length = config.algorithm === "SHA512" ? 64 : config.algorithm === "SHA256" ? 32 : 20;
  return generateSecret({ length });
}

export function totpUri(input: { issuer: string; label: string; secret: string; config: TotpConfig }): string {
  return generateURI({
    issuer: input.issuer,
    label: input.label,
    secret: input.secret,
    algorithm: input.config.algorithm.toLowerCase() as "sha1",
    digits: input.config.codeLength,
    period: input.config.timeStep,
  });
}

export function totpQrSvg(uri: string): Promise<string> {
  return QRCode.toString(uri, { type: "svg", errorCorrectionLevel: "M", margin: 2 });
}

/**
 * The code's time step when it is inside ±skew steps of now (accepted only once: the store keeps it as
 * the factor's replay floor), and how many steps the device's clock is off (`driftSteps`, −skew…+skew).
 * A wrong code says nothing more: telling which window it would have matched would be an oracle over the
 * neighbouring codes, so drift is known, and told, only with an accepted code.
 */
export type TotpMatch = { ok: true; step: number; driftSteps: number } | { ok: false };

export function matchTotp(secret: string, code: string, config: TotpConfig, nowMs: number): TotpMatch {
  if (code.length !== config.codeLength || !/^\d+$/.test(code)) return { ok: false };
  const epoch = Math.floor(nowMs / 1000);
  const inside = verifySync({
    secret,
    token: code,
    epoch,
    period: config.timeStep,
    digits: config.codeLength,
    algorithm: config.algorithm.toLowerCase() as "sha1",
    epochTolerance: config.skew * config.timeStep,
  });
  if (!inside.valid) return { ok: false };
  const { timeStep, delta } = inside as { timeStep: number; delta: number };
  return { ok: true, step: timeStep, driftSteps: delta };
}
