import { generateSecret, generateURI, verifySync } from "otplib";
import QRCode from "qrcode";
import { z } from "zod";
import type { TotpConfig } from "../types.js";

/** RFC 6238 settings a service may choose (issue 4): step 20–60 s, 3–8 digits, skew 0–2 steps. */
export const totpSettingsInput = z.object({
  timeStep: z.number().int().min(20).max(60).nullish(),
  codeLength: z.number().int().min(3).max(8).nullish(),
  skew: z.number().int().min(0).max(2).nullish(),
  algorithm: z.enum(["SHA1", "SHA256", "SHA512"]).nullish(),
});

export const TOTP_DEFAULTS: TotpConfig = { timeStep: 30, codeLength: 6, skew: 1, algorithm: "SHA1" };

/** How far around the accepted window a code is looked for, only to tell the device its clock is off. */
const DRIFT_SEARCH_STEPS = 10;

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

export type TotpMatch =
  /** The code's time step: accepted only once (the store keeps it as the factor's replay floor). */
  | { ok: true; step: number }
  /** Wrong code; `driftSteps` when it matches a window just outside the accepted one (device clock off). */
  | { ok: false; driftSteps: number | null };

/** Checks a code inside ±skew steps; outside it, looks a little further only to report the device's drift. */
export function matchTotp(secret: string, code: string, config: TotpConfig, nowMs: number): TotpMatch {
  if (code.length !== config.codeLength || !/^\d+$/.test(code)) return { ok: false, driftSteps: null };
  const epoch = Math.floor(nowMs / 1000);
  const current = Math.floor(epoch / config.timeStep);
  const options = { secret, token: code, epoch, period: config.timeStep, digits: config.codeLength, algorithm: config.algorithm.toLowerCase() as "sha1" };
  const inside = verifySync({ ...options, epochTolerance: config.skew * config.timeStep });
  if (inside.valid) return { ok: true, step: (inside as { timeStep: number }).timeStep };
  const around = verifySync({ ...options, epochTolerance: DRIFT_SEARCH_STEPS * config.timeStep });
  return { ok: false, driftSteps: around.valid ? (around as { timeStep: number }).timeStep - current : null };
}
