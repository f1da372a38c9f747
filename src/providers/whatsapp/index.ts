import type { Provider } from "../provider.js";

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
