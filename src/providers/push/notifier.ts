import { readFileSync } from "node:fs";
import { Agent } from "node:https";
import { rootCertificates } from "node:tls";
import type { Logger } from "pino";
import webpush from "web-push";
import { type Keyring, open, seal } from "../../domain/crypto.js";
import type { Challenge, PushConfig } from "../../domain/types.js";
import type { ServiceStore as Store } from "../../domain/ports/index.js";
import { EgressRefused, guardedLookup } from "../egress/guard.js";
import { ApnsSender } from "./apns.js";
import { type WebPushPolicy, sendRefusal } from "./endpoints.js";
import { FcmSender } from "./fcm.js";
import type { ChallengeNotice, NotifyResult } from "./notice.js";

export type { ChallengeNotice, NotifyResult } from "./notice.js";

export interface VapidKeys {
  publicKey: string;
  privateKey: string;
}

/**
 * Sends challenge notices through the factor's platform. Web Push is real (RFC 8291 encryption and VAPID
 * through the web-push library); FCM through its HTTP v1 API with a service account (FCM_SERVICE_ACCOUNT);
 * APNs over HTTP/2 with a token signing key (APNS_*). Devices of a platform with no credentials poll
 * `challenges(factorSid)` like NONE devices do.
 */
export class PushNotifier {
  private readonly agent: Agent | undefined;

  private readonly fcm: FcmSender | null;
  private readonly apns: ApnsSender | null;

  constructor(
    private readonly o: {
      vapid: VapidKeys;
      subject: string;
      caFile: string | null;
      /** Which Web Push endpoints may be dialled (checked again at each send: the policy may have changed). */
      webPushPolicy: WebPushPolicy;
      logger: Logger;
      timeoutMs?: number;
      fcm?: { serviceAccountFile: string; apiUrl: string } | null;
      apns?: { keyFile: string; keyId: string; teamId: string; topic: string; url: string } | null;
    },
  ) {
    this.fcm = o.fcm ? new FcmSender({ ...o.fcm, timeoutMs: o.timeoutMs ?? 10_000 }) : null;
    this.apns = o.apns ? new ApnsSender({ ...o.apns, caFile: o.caFile, timeoutMs: o.timeoutMs ?? 10_000 }) : null;
    // A private push service (or a test's) may be signed by an extra CA; the public roots stay trusted.
    // Unless private networks are allowed, every address an endpoint's name resolves to is checked in
    // the socket's own lookup, so a DNS answer cannot change between a check and the connect.
    const ca = o.caFile ? { ca: [...rootCertificates, readFileSync(o.caFile, "utf8")] } : {};
    const lookup = o.webPushPolicy.allowInternal ? {} : { lookup: guardedLookup as never };
    this.agent = o.caFile || !o.webPushPolicy.allowInternal ? new Agent({ ...ca, ...lookup, keepAlive: true }) : undefined;
  }

  close(): void {
    this.apns?.close();
  }

  get vapidPublicKey(): string {
    return this.o.vapid.publicKey;
  }

  async notify(config: PushConfig, challenge: Challenge, now: number): Promise<NotifyResult> {
    const notice: ChallengeNotice = {
      type: "verigate.challenge",
      challengeSid: challenge.sid,
      factorSid: challenge.factorSid as string,
      serviceSid: challenge.serviceSid,
      message: challenge.details?.message ?? "",
      silent: challenge.silent,
      expiresAt: new Date(challenge.expiresAt).toISOString(),
    };
    if (config.notificationPlatform === "WEBPUSH" && config.webPushSubscription) {
      const refusal = sendRefusal(config.webPushSubscription.endpoint, this.o.webPushPolicy);
      if (refusal) return { sent: false, retry: false, reason: refusal };
      try {
        await webpush.sendNotification(config.webPushSubscription, JSON.stringify(notice), {
          vapidDetails: { subject: this.o.subject, publicKey: this.o.vapid.publicKey, privateKey: this.o.vapid.privateKey },
          TTL: Math.max(0, Math.floor((challenge.expiresAt - now) / 1000)),
          urgency: "high",
          topic: challenge.sid.slice(-32),
          timeout: this.o.timeoutMs ?? 10_000,
          ...(this.agent ? { agent: this.agent } : {}),
        });
        return { sent: true };
      } catch (error) {
        // The endpoint's name resolves to an internal address: policy, not a passing failure.
        if (error instanceof EgressRefused) return { sent: false, retry: false, reason: error.message };
        const status = (error as { statusCode?: number }).statusCode;
        // 404/410: the subscription is gone for good; other answers may pass.
        return { sent: false, retry: status !== 404 && status !== 410 && status !== 400, reason: status ? `push service answered ${status}` : (error as Error).message };
      }
    }
    const ttl = Math.max(0, Math.floor((challenge.expiresAt - now) / 1000));
    if (config.notificationPlatform === "FCM" && config.notificationToken && this.fcm) return this.fcm.send(config.notificationToken, notice, ttl);
    if (config.notificationPlatform === "APN" && config.notificationToken && this.apns) return this.apns.send(config.notificationToken, notice, challenge.expiresAt);
    return { sent: false, retry: false, reason: `${config.notificationPlatform} notifications are not configured on this gateway; the device polls` };
  }
}

/** VAPID keys: from the environment, or generated once and kept in the store (sealed) so instances share them. */
export async function loadVapidKeys(o: { configured: { publicKey: string | null; privateKey: string | null }; store: Store; keys: Keyring }): Promise<VapidKeys> {
  if (o.configured.publicKey && o.configured.privateKey) return { publicKey: o.configured.publicKey, privateKey: o.configured.privateKey };
  const fresh = webpush.generateVAPIDKeys();
  const stored = await o.store.initSetting("vapid_keys", JSON.stringify({ publicKey: fresh.publicKey, privateKey: seal(o.keys, fresh.privateKey, "vapid") }));
  const parsed = JSON.parse(stored) as { publicKey: string; privateKey: string };
  return { publicKey: parsed.publicKey, privateKey: open(o.keys, parsed.privateKey, "vapid") };
}
