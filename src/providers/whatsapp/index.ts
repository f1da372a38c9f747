import { z } from "zod";
import { type Provider, requiredWith, transportPlugin } from "../provider.js";

export interface WhatsAppOptions {
  /** Graph API base, e.g. https://graph.facebook.com/v21.0 */
  apiUrl: string;
  accessToken: string;
  phoneNumberId: string;
  /** An approved authentication template with a copy-code button. */
  template: string;
}

/** Meta's language codes use underscores (pt_BR, en_US); plain languages stay as they are. */
export const whatsappLanguage = (locale: string): string => locale.replace("-", "_");

/**
 * WhatsApp Cloud API: an authentication template message, the code both in the body parameter and in
 * the copy-code button, exactly the request Meta documents for authentication templates.
 */
export function whatsappProvider(options: WhatsAppOptions): Provider {
  return {
    name: "whatsapp-cloud",
    async send(message) {
      const request = {
        messaging_product: "whatsapp",
        recipient_type: "individual",
        to: message.to.replace(/^\+/, ""),
        type: "template",
        template: {
          name: options.template,
          language: { code: whatsappLanguage(message.locale) },
          components: [
            { type: "body", parameters: [{ type: "text", text: message.code }] },
            { type: "button", sub_type: "url", index: "0", parameters: [{ type: "text", text: message.code }] },
          ],
        },
      };
      const response = await fetch(`${options.apiUrl.replace(/\/$/, "")}/${options.phoneNumberId}/messages`, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${options.accessToken}` },
        body: JSON.stringify(request),
      });
      const answer = (await response.json().catch(() => ({}))) as { messages?: { id: string }[]; error?: { code?: number; message?: string } };
      if (!response.ok) throw new Error(`WhatsApp answered ${response.status}${answer.error ? ` (${answer.error.code}: ${answer.error.message})` : ""}`);
      return { status: "SENT", providerMessageId: answer.messages?.[0]?.id ?? null };
    },
  };
}

/** WhatsApp Cloud API: WHATSAPP_ACCESS_TOKEN and WHATSAPP_PHONE_NUMBER_ID (template and API URL have defaults). */
export const whatsappTransport = transportPlugin({
  name: "whatsapp-cloud",
  channels: { WHATSAPP: "WHATSAPP_ACCESS_TOKEN" },
  env: {
    WHATSAPP_ACCESS_TOKEN: z.string().min(1).optional(),
    WHATSAPP_PHONE_NUMBER_ID: z.string().regex(/^\d+$/, "must be the numeric phone number id").optional(),
    WHATSAPP_TEMPLATE: z
      .string()
      .regex(/^[a-z0-9_]+$/, "must be a template name (lower case, digits, _)")
      .default("verification_code"),
    WHATSAPP_API_URL: z.url().default("https://graph.facebook.com/v21.0"),
  },
  problems: (env) => [
    ...requiredWith(env, env.WHATSAPP_ACCESS_TOKEN, "WHATSAPP_PHONE_NUMBER_ID", "WHATSAPP_ACCESS_TOKEN"),
    ...requiredWith(env, env.WHATSAPP_PHONE_NUMBER_ID, "WHATSAPP_ACCESS_TOKEN", "WHATSAPP_PHONE_NUMBER_ID"),
  ],
  options: (env): WhatsAppOptions | null =>
    env.WHATSAPP_ACCESS_TOKEN && env.WHATSAPP_PHONE_NUMBER_ID
      ? { apiUrl: env.WHATSAPP_API_URL as string, accessToken: env.WHATSAPP_ACCESS_TOKEN as string, phoneNumberId: env.WHATSAPP_PHONE_NUMBER_ID as string, template: env.WHATSAPP_TEMPLATE as string }
      : null,
  create: (options) => whatsappProvider(options),
});
