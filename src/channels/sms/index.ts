import { catalogueFor, fill } from "../../i18n/catalogue.js";
import type { Channel } from "../channel.js";

export const sms: Channel = {
  name: "SMS",
  address: "phone",
  render(input) {
    const { catalogue } = catalogueFor(input.locale);
    const values = { name: input.friendlyName, code: input.code, amount: input.amount ?? "", payee: input.payee ?? "" };
    let body = fill(input.amount !== null ? catalogue.smsPsd2 : catalogue.sms, values);
    if (input.doNotShareWarning) body += `. ${catalogue.doNotShare}`;
    return { to: input.to, channel: "SMS", body };
  },
};
