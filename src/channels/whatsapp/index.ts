import { fill } from "../../i18n/catalogue.js";
import { templateText, transactionLines } from "../compose.js";
import type { ChannelPlugin } from "../channel.js";

export const whatsapp: ChannelPlugin = {
  name: "WHATSAPP",
  address: "phone",
  selectable: true,
  delivers: true,
  attempt: true,
  geo: true,
  psd2: true,
  describe: { channel: "A WhatsApp message", attempt: "A WhatsApp message", fallback: "A WhatsApp message", geo: "WhatsApp messages" },
  /** Where WhatsApp does not take the message, SMS does (WHATSAPP_FALLBACK_SMS). */
  route: async (_to, options) => (options.whatsappFallbackToSms ? ["WHATSAPP", "SMS"] : null),
  render(input) {
    const custom = templateText(input, "WHATSAPP");
    if (custom) return { to: input.to, channel: "WHATSAPP", body: custom.text, locale: custom.locale };
    const w = input.wording;
    let body = fill(w.code, { name: input.friendlyName, code: input.code });
    for (const line of transactionLines(input)) body += `. ${line}`;
    if (input.doNotShareWarning) body += `. ${w.doNotShare}`;
    return { to: input.to, channel: "WHATSAPP", body, locale: input.locale };
  },
};
