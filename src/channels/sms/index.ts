import { fill } from "../../i18n/catalogue.js";
import { transactionLines } from "../compose.js";
import type { AttemptChannel } from "../../domain/types.js";
import type { Channel, MessageInput } from "../channel.js";

/** The text of a code message, shared by SMS and RCS. */
export function textMessage(input: MessageInput): string {
  const w = input.wording;
  let body = fill(w.code, { name: input.friendlyName, code: input.code });
  for (const line of transactionLines(input)) body += `. ${line}`;
  if (input.doNotShareWarning) body += `. ${w.doNotShare}`;
  // Android's SMS Retriever reads messages that start with <#> and carry the app's hash.
  if (input.appHash) body = `<#> ${body}\n${input.appHash}`;
  // WebOTP (browser autofill) reads a last line of the form "@domain #code".
  if (input.webOtpDomain) body += `\n\n@${input.webOtpDomain} #${input.code}`;
  return body;
}

const textChannel = (name: AttemptChannel): Channel => ({
  name,
  address: "phone",
  render: (input) => ({ to: input.to, channel: name, body: textMessage(input), locale: input.locale }),
});

export const sms = textChannel("SMS");
/** RCS carries the same words as SMS; the transport differs. */
export const rcs = textChannel("RCS");
