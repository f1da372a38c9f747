import type { FactorRecord } from "../../ports/index.js";
import { invalidParameter } from "../../errors.js";
import type { PushConfig } from "../../types.js";
import { publicChallenge } from "../projections.js";
import { PUSH_SIGNED_FIELDS, parseDeviceKey, pushSettingsInput, pushUpdateInput, verifyAnswer, verifyPossession } from "../push.js";
import type { FactorStrategy } from "./strategy.js";
import type { z } from "zod";

export const pushConfig = (factor: FactorRecord): PushConfig => factor.config as unknown as PushConfig;

/** A device's P-256 key: it proves possession with a signed JWS, and signs its answers to push challenges. */
export const push: FactorStrategy = {
  type: "PUSH",
  description: "A device's P-256 key: it signs its answers to push challenges",
  settings: { key: "push", schema: pushSettingsInput, update: pushUpdateInput },
  needsIdentity: true,
  signedFields: PUSH_SIGNED_FIELDS,
  enrol(ctx, input) {
    const p = input.push as z.output<typeof pushSettingsInput> | null | undefined;
    if (!p) throw invalidParameter("push", "Invalid parameter `push`: a PUSH factor needs the device's `publicKey`.");
    if (input.totp) throw invalidParameter("totp", "Invalid parameter `totp`: only for TOTP factors.");
    parseDeviceKey(p.publicKey);
    const platform = p.notificationPlatform ?? (p.webPushSubscription ? "WEBPUSH" : "NONE");
    if (platform === "WEBPUSH" && !p.webPushSubscription)
      throw invalidParameter("push.webPushSubscription", "Invalid parameter `push.webPushSubscription`: WEBPUSH needs the browser's PushSubscription (endpoint and keys).");
    const refusal = p.webPushSubscription ? ctx.webPushEndpointRefusal(p.webPushSubscription.endpoint) : null;
    if (refusal) throw invalidParameter("push.webPushSubscription", `Invalid parameter \`push.webPushSubscription\`: ${refusal}.`);
    if ((platform === "FCM" || platform === "APN") && !p.notificationToken)
      throw invalidParameter("push.notificationToken", `Invalid parameter \`push.notificationToken\`: ${platform} needs the device's registration token.`);
    const config: PushConfig = {
      alg: "ES256",
      notificationPlatform: platform,
      notificationToken: p.notificationToken ?? null,
      webPushSubscription: p.webPushSubscription ?? null,
      silentApproval: p.silentApproval ?? false,
    };
    return { config: config as unknown as Record<string, unknown>, publicKey: p.publicKey, secret: null };
  },
  /**
   * A device's new notification address (an app's FCM/APNs token changes; a browser's subscription is
   * renewed), at any status. A token or a subscription belongs to its platform: moving to FCM or APN needs
   * the new token in the same update, to WEBPUSH the new subscription; NONE drops both (the device lists
   * its challenges itself). The key and silent approval never change: a new key is a new factor.
   */
  update(ctx, factor, settings) {
    const p = settings as z.output<typeof pushUpdateInput>;
    const current = pushConfig(factor);
    const platform = p.notificationPlatform ?? current.notificationPlatform;
    const moved = platform !== current.notificationPlatform;
    const refuse = (field: string, why: string) => invalidParameter(`push.${field}`, `Invalid parameter \`push.${field}\`: ${why}`);
    let notificationToken: string | null = null;
    let webPushSubscription: PushConfig["webPushSubscription"] = null;
    if (platform === "FCM" || platform === "APN") {
      if (p.webPushSubscription) throw refuse("webPushSubscription", `a ${platform} device has a notificationToken, not a Web Push subscription.`);
      notificationToken = p.notificationToken ?? (moved ? null : current.notificationToken);
      if (!notificationToken) throw refuse("notificationToken", `${platform} needs the device's registration token${moved ? " in the same update that moves the factor to it" : ""}.`);
    } else if (platform === "WEBPUSH") {
      if (p.notificationToken) throw refuse("notificationToken", "a WEBPUSH device has a webPushSubscription, not a token.");
      webPushSubscription = p.webPushSubscription ?? (moved ? null : current.webPushSubscription);
      if (!webPushSubscription) throw refuse("webPushSubscription", "WEBPUSH needs the browser's PushSubscription (endpoint and keys).");
      const refusal = p.webPushSubscription ? ctx.webPushEndpointRefusal(p.webPushSubscription.endpoint) : null;
      if (refusal) throw refuse("webPushSubscription", `${refusal}.`);
    } else if (p.notificationToken || p.webPushSubscription) {
      throw refuse(p.notificationToken ? "notificationToken" : "webPushSubscription", "a NONE device is not notified; give notificationPlatform with it.");
    }
    const config: PushConfig = { ...current, notificationPlatform: platform, notificationToken, webPushSubscription };
    const changed = (["notificationPlatform", "notificationToken", "webPushSubscription"] as const).filter((k) => JSON.stringify(config[k] ?? null) !== JSON.stringify(current[k] ?? null));
    return { config: config as unknown as Record<string, unknown>, changed, whileUnverified: false };
  },
  requireAnswer(input, step) {
    if (input.authPayload) return;
    if (step === "verify") throw invalidParameter("authPayload", "Invalid parameter `authPayload`: a JWT `{ sub: factorSid }` signed with the device key is required.");
    throw invalidParameter("authPayload", "Invalid parameter `authPayload`: the device's signed answer (compact ES256 JWS) is required.");
  },
  async verify(ctx, factor, input, now) {
    const key = ctx.deviceKeys.get(factor.sid, factor.publicKey ?? "");
    if (!(await verifyPossession(input.authPayload ?? "", key, factor.sid, now))) return { ok: false, message: "The factor was not verified: the proof was not signed by this factor's key." };
    return { ok: true };
  },
  challenge(_ctx, factor, input) {
    const config = pushConfig(factor);
    if (!input.details) throw invalidParameter("details", "Invalid parameter `details`: a push challenge needs the message shown to the user.");
    if (input.silent && !config.silentApproval) throw invalidParameter("silent", "Invalid parameter `silent`: this factor was not enrolled with silentApproval.");
    return { jobs: config.notificationPlatform !== "NONE" ? ["push_notify"] : [] };
  },
  async answer(ctx, challenge, factor, input) {
    const answer = await verifyAnswer(input.authPayload ?? "", ctx.deviceKeys.get(factor.sid, factor.publicKey ?? ""), publicChallenge(challenge));
    if (!answer.ok) return { ok: false, message: `The answer was refused: ${answer.reason}.` };
    return { ok: true, status: answer.status };
  },
  deviceKey: (ctx, factor) => (factor.publicKey ? ctx.deviceKeys.get(factor.sid, factor.publicKey) : null),
};
