import { catalogueFor, fill } from "../../i18n/catalogue.js";
import type { Channel } from "../channel.js";

export const whatsapp: Channel = {
  name: "WHATSAPP",
  address: "phone",
  render(input) {
    const { catalogue } = catalogueFor(input.locale);
    return { to: input.to, channel: "WHATSAPP", body: fill(catalogue.whatsapp, { name: input.friendlyName, code: input.code }) };
  },
};
