import { fill } from "../../i18n/catalogue.js";
import { transactionLines } from "../compose.js";
import type { Channel } from "../channel.js";

export const whatsapp: Channel = {
  name: "WHATSAPP",
  address: "phone",
  render(input) {
    const w = input.wording;
    let body = fill(w.code, { name: input.friendlyName, code: input.code });
    for (const line of transactionLines(input)) body += `. ${line}`;
    if (input.doNotShareWarning) body += `. ${w.doNotShare}`;
    return { to: input.to, channel: "WHATSAPP", body, locale: input.locale };
  },
};
