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
  settings: { key: "totp", schema: totpSettingsInput, update: totpSettingsInput },
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
  /**
   * The time step, code length and algorithm change only while the factor is UNVERIFIED. The user's
   * authenticator app was set up with them (the otpauth URI carries period, digits and algorithm) and the
   * seed is shown only at creation: once a first code has proven the app matches, changing them would make
   * every later code fail until the user enrols again, and the replay floor (the last accepted time step)
   * counts steps of the old length. Before that, the caller still holds the seed and can hand the app a new
   * URI. The skew is the gateway's own tolerance, not the app's: it may change at any time.
   */
  update(_ctx, factor, settings) {
    const t = settings as Partial<TotpConfig>;
    const current = totpConfig(factor);
    const config: TotpConfig = { timeStep: t.timeStep ?? current.timeStep, codeLength: t.codeLength ?? current.codeLength, skew: t.skew ?? current.skew, algorithm: t.algorithm ?? current.algorithm };
    const changed = (["timeStep", "codeLength", "skew", "algorithm"] as const).filter((k) => config[k] !== current[k]);
    const appSide = changed.filter((k) => k !== "skew");
    if (appSide.length > 0 && factor.status !== "UNVERIFIED")
      throw invalidParameter(
        `totp.${appSide[0]}`,
        `Invalid parameter \`totp.${appSide[0]}\`: a verified TOTP factor keeps the time step, code length and algorithm its authenticator app was set up with (only skew may change); create a new factor instead.`,
      );
    return { config: config as unknown as Record<string, unknown>, changed, whileUnverified: appSide.length > 0 };
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
