import type { FactorRecord } from "../../ports/index.js";
import { open } from "../../crypto.js";
import { invalidParameter } from "../../errors.js";
import type { TotpConfig } from "../../types.js";
import { matchTotp, newTotpSecret, totpQrSvg, totpSettingsInput, totpUri } from "../totp.js";
import type { FactorContext, FactorStrategy } from "./strategy.js";

export const totpConfig = (factor: FactorRecord): TotpConfig => factor.config as unknown as TotpConfig;

function secretOf(ctx: FactorContext, factor: FactorRecord): string {
  if (!factor.secretSealed) throw new Error(`TOTP factor ${factor.sid} has no secret`);
  return open(ctx.keys, factor.secretSealed, factor.sid);
}

/**
 * An accepted code from a neighbouring time step: the device's clock is off by that many steps. Told to
 * the operator (a clock that drifts further will soon fail), and only for accepted codes, never refused ones.
 */
function reportDrift(ctx: FactorContext, driftSteps: number, sids: Record<string, string>): void {
  if (driftSteps !== 0) ctx.log.info({ ...sids, driftSteps }, `TOTP code accepted from a device clock ${Math.abs(driftSteps)} step(s) ${driftSteps < 0 ? "behind" : "ahead"}`);
}

/** RFC 6238 codes from an authenticator app: a sealed seed, the first right code verifies, each code once. */
export const totp: FactorStrategy = {
  type: "TOTP",
  description: "A time-based one-time password seed in an authenticator app (RFC 6238)",
  settings: { key: "totp", schema: totpSettingsInput },
  needsIdentity: true,
  enrol(_ctx, input, service) {
    if (input.push) throw invalidParameter("push", "Invalid parameter `push`: only for PUSH factors.");
    const d = service.totp;
    const t = (input.totp ?? {}) as Partial<TotpConfig>;
    const config: TotpConfig = { timeStep: t.timeStep ?? d.timeStep, codeLength: t.codeLength ?? d.codeLength, skew: t.skew ?? d.skew, algorithm: t.algorithm ?? d.algorithm };
    return { config: config as unknown as Record<string, unknown>, publicKey: null, secret: newTotpSecret(config) };
  },
  async enrolled(_ctx, enrolment, input, service) {
    const secret = enrolment.secret as string;
    const uri = totpUri({ issuer: service.totp.issuer ?? service.friendlyName, label: input.friendlyName, secret, config: enrolment.config as unknown as TotpConfig });
    return { totp: { secret, uri, qrCodeSvg: await totpQrSvg(uri) } };
  },
  requireAnswer(input) {
    if (!input.code) throw invalidParameter("code", "Invalid parameter `code`: the code the authenticator app shows is required.");
  },
  async verify(ctx, factor, input, now) {
    const match = matchTotp(secretOf(ctx, factor), input.code ?? "", totpConfig(factor), now);
    if (!match.ok) return { ok: false, message: "The factor was not verified: the code is wrong." };
    reportDrift(ctx, match.driftSteps, { serviceSid: factor.serviceSid, factorSid: factor.sid });
    return { ok: true, counter: match.step };
  },
  challenge(_ctx, _factor, input) {
    if (input.silent) throw invalidParameter("silent", "Invalid parameter `silent`: silent approval is for PUSH factors.");
    return { jobs: [] };
  },
  async answer(ctx, challenge, factor, input, now) {
    const match = matchTotp(secretOf(ctx, factor), input.code ?? "", totpConfig(factor), now);
    if (!match.ok) return { ok: false, message: "The answer was refused: the code is wrong." };
    reportDrift(ctx, match.driftSteps, { serviceSid: challenge.serviceSid, factorSid: factor.sid, challengeSid: challenge.sid });
    return { ok: true, status: "APPROVED", totpStep: match.step };
  },
};
