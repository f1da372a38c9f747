import { catalogueFor, fill } from "../../i18n/catalogue.js";
import type { Channel } from "../channel.js";

export const email: Channel = {
  name: "EMAIL",
  address: "email",
  render(input) {
    const { catalogue } = catalogueFor(input.locale);
    const values = { name: input.friendlyName, code: input.code };
    return { to: input.to, channel: "EMAIL", subject: fill(catalogue.emailSubject, values), body: fill(catalogue.emailBody, values) };
  },
};
