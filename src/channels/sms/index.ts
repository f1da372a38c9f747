import { fill } from "../../i18n/catalogue.js";
import { templateText, transactionLines } from "../compose.js";
import type { ChannelPlugin, MessageInput } from "../channel.js";

/** The text of a code message, shared by SMS and RCS. */
export function textMessage(input: MessageInput): string {
  const w = input.wording;
  const custom = templateText(input, "SMS");
  let body = custom?.text ?? fill(w.code, { name: input.friendlyName, code: input.code });
  if (!custom) {
    for (const line of transactionLines(input)) body += `. ${line}`;
    if (input.doNotShareWarning) body += `. ${w.doNotShare}`;
  }
  // Android's SMS Retriever reads messages that start with <#> and carry the app's hash.
  if (input.appHash) body = `<#> ${body}\n${input.appHash}`;
  // WebOTP (browser autofill) reads a last line of the form "@domain #code".
  if (input.webOtpDomain) body += `\n\n@${input.webOtpDomain} #${input.code}`;
  return body;
}

export const sms: ChannelPlugin = {
  name: "SMS",
  address: "phone",
  selectable: true,
  delivers: true,
  attempt: true,
  geo: true,
  psd2: true,
  fraudGuard: true,
  textOnly: true,
  appHash: true,
  describe: { channel: "A text message", attempt: "A text message", fallback: "A text message", geo: "Text messages" },
  render: (input) => ({ to: input.to, channel: "SMS", body: textMessage(input), locale: templateText(input, "SMS")?.locale ?? input.locale }),
  /** SMS is upgraded to RCS where the handset supports it, and falls back to SMS. */
  route: async (to, options) => (options.rcs && (await options.rcs.isCapable(to)) ? ["RCS", "SMS"] : null),
};

/** RCS carries the same words as SMS; the transport differs. Never asked for: an SMS upgraded. */
export const rcs: ChannelPlugin = {
  name: "RCS",
  address: "phone",
  selectable: false,
  delivers: false,
  attempt: true,
  geo: false,
  psd2: true,
  describe: { attempt: "An RCS message: an SMS upgraded for an RCS-capable handset" },
  render: (input) => ({ to: input.to, channel: "RCS", body: textMessage(input), locale: templateText(input, "SMS")?.locale ?? input.locale }),
};
