import type { AttemptChannel } from "../../domain/types.js";
import { z } from "zod";
import { type Provider, requiredWith, transportPlugin } from "../provider.js";
import { smsFrom } from "../smpp/index.js";
import { signedHeaders } from "./signing.js";

/**
 * A generic HTTP provider for SMS, RCS and voice vendors: a JSON POST signed Standard Webhooks style,
 * answered with `{ "messageId": "…" }`. The attempt sid is both the webhook-id and the Idempotency-Key,
 * so a retry of ours is recognisable on the vendor's side. Calls carry the TwiML and SSML script URLs
 * instead of the code.
 */
export function httpProvider(options: { channel: AttemptChannel; url: string; secret: string; from: string | null }): Provider {
  return {
    name: `http-${options.channel.toLowerCase()}`,
    async send(message) {
      const payload = {
        attemptSid: message.attemptSid,
        verificationSid: message.verificationSid,
        channel: message.channel,
        to: message.to,
        from: options.from,
        locale: message.locale,
        ...(message.voice ? { answerUrl: message.voice.answerUrl, ssmlUrl: message.voice.ssmlUrl } : { body: message.body }),
      };
      const body = JSON.stringify(payload);
      const response = await fetch(options.url, {
        method: "POST",
        headers: { "content-type": "application/json", "idempotency-key": message.attemptSid, ...signedHeaders(options.secret, message.attemptSid, body) },
        body,
      });
      if (!response.ok) throw new Error(`HTTP provider answered ${response.status}`);
      const answer = (await response.json().catch(() => ({}))) as { messageId?: unknown; id?: unknown };
      const id = answer.messageId ?? answer.id;
      return { status: "SENT", providerMessageId: typeof id === "string" || typeof id === "number" ? String(id) : null };
    },
  };
}

/** The URL variable of each channel the generic HTTP provider carries. */
const httpUrls: Record<AttemptChannel, string> = { SMS: "HTTP_SMS_URL", RCS: "HTTP_RCS_URL", CALL: "HTTP_CALL_URL" };

/** SMS, RCS and voice over the generic signed HTTP POST: HTTP_<CHANNEL>_URL and HTTP_PROVIDER_SECRET. */
export const httpTransport = transportPlugin({
  name: "http",
  channels: httpUrls,
  env: {
    HTTP_SMS_URL: z.url().optional(),
    HTTP_RCS_URL: z.url().optional(),
    HTTP_CALL_URL: z.url().optional(),
    HTTP_PROVIDER_SECRET: z
      .string()
      .regex(/^whsec_[A-Za-z0-9+/=]{24,}$/, "must be a Standard Webhooks secret: whsec_ followed by base64")
      .optional(),
    SMS_FROM: smsFrom,
  },
  problems: (env) => requiredWith(env, env.HTTP_SMS_URL || env.HTTP_RCS_URL || env.HTTP_CALL_URL, "HTTP_PROVIDER_SECRET", "HTTP_SMS_URL, HTTP_RCS_URL or HTTP_CALL_URL"),
  options: (env, channel) => {
    const url = env[httpUrls[channel] ?? ""] as string | undefined;
    const secret = env.HTTP_PROVIDER_SECRET as string | undefined;
    return url && secret ? { channel, url, secret, from: (env.SMS_FROM as string | undefined) ?? null } : null;
  },
  create: (options) => httpProvider(options),
});
