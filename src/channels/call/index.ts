import { fill } from "../../i18n/catalogue.js";
import type { ChannelPlugin, MessageInput } from "../channel.js";
import { type TemplateInput, templateText } from "../compose.js";

/** "1, 2, 3": read digit by digit, never as a number. */
export const spokenDigits = (code: string): string => code.split("").join(", ");

export const spokenCode = (input: TemplateInput & Pick<MessageInput, "friendlyName">): string =>
  templateText(input, "CALL", spokenDigits(input.code))?.text ?? `${fill(input.wording.code, { name: input.friendlyName, code: spokenDigits(input.code) })}.`;

export const call: ChannelPlugin = {
  name: "CALL",
  address: "phone",
  selectable: true,
  delivers: true,
  attempt: true,
  geo: true,
  // The payer must see what a PSD2 code authorises: a voice call cannot show it.
  psd2: false,
  sendDigits: true,
  describe: { channel: "A voice call that reads the code out", attempt: "A voice call", fallback: "A voice call", geo: "Voice calls" },
  render: (input) => ({ to: input.to, channel: "CALL", body: spokenCode(input), locale: templateText(input, "CALL")?.locale ?? input.locale }),
};
