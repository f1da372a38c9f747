import type { AttemptChannel } from "../../domain/types.js";
import type { Provider } from "../provider.js";
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
