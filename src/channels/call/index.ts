import { fill } from "../../i18n/catalogue.js";
import type { Channel, MessageInput } from "../channel.js";

/** "1, 2, 3": read digit by digit, never as a number. */
export const spokenDigits = (code: string): string => code.split("").join(", ");

export const spokenCode = (input: Pick<MessageInput, "wording" | "friendlyName" | "code">): string =>
  `${fill(input.wording.code, { name: input.friendlyName, code: spokenDigits(input.code) })}.`;

export const call: Channel = {
  name: "CALL",
  address: "phone",
  render: (input) => ({ to: input.to, channel: "CALL", body: spokenCode(input), locale: input.locale }),
};
