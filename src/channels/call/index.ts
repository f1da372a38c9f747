import { catalogueFor, fill } from "../../i18n/catalogue.js";
import type { Channel } from "../channel.js";

export const call: Channel = {
  name: "CALL",
  address: "phone",
  render(input) {
    const { catalogue } = catalogueFor(input.locale);
    // Spoken digit by digit: "1, 2, 3" is read as three digits, "123" as a number.
    const spoken = input.code.split("").join(", ");
    return { to: input.to, channel: "CALL", body: fill(catalogue.call, { name: input.friendlyName, code: spoken }) };
  },
};
