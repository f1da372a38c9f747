import type { Clock } from "../../domain/clock.js";
import type { ServiceStore as Store } from "../../domain/ports/index.js";
import { z } from "zod";
import { type Provider, transportPlugin } from "../provider.js";

/** Delivers into the store, readable through the admin-only `devOutbox` query; for development only. */
export function devOutboxProvider(store: Store, clock: Clock): Provider {
  return {
    name: "dev-outbox",
    async send(message) {
      await store.addDevMessage({
        to: message.to,
        channel: message.channel,
        body: message.subject ? `${message.subject}\n\n${message.body}` : message.body,
        code: message.code,
        verificationSid: message.verificationSid,
        attemptSid: message.attemptSid,
        createdAt: clock.now(),
      });
      return { status: "SENT", providerMessageId: `dev-${message.attemptSid}` };
    },
  };
}

/** The RCS sandbox: with RCS_CAPABLE_NUMBERS and no RCS vendor, those numbers' SMS are upgraded into the dev outbox. */
export const rcsSandboxTransport = transportPlugin({
  name: "rcs-sandbox",
  channels: { RCS: "HTTP_RCS_URL" },
  env: { RCS_CAPABLE_NUMBERS: z.string().optional() },
  options: (env) =>
    String(env.RCS_CAPABLE_NUMBERS ?? "")
      .split(",")
      .some((s) => s.trim())
      ? {}
      : null,
  create: (_options, deps) => deps.devOutbox,
});
