import type { DeliveryChannel } from "../domain/types.js";
import { call } from "./call/index.js";
import type { Channel } from "./channel.js";
import { email } from "./email/index.js";
import { sms } from "./sms/index.js";
import { whatsapp } from "./whatsapp/index.js";

/** Adding a channel: one folder and one line here. */
export const channels: Record<DeliveryChannel, Channel> = { SMS: sms, WHATSAPP: whatsapp, CALL: call, EMAIL: email };
