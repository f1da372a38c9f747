import type { AttemptChannel, DeliveryChannel } from "../domain/types.js";
import { call } from "./call/index.js";
import type { Channel } from "./channel.js";
import { email } from "./email/index.js";
import { rcs, sms } from "./sms/index.js";
import { whatsapp } from "./whatsapp/index.js";

/** Adding a channel: one folder and one line here. */
export const channels: Record<AttemptChannel, Channel | undefined> & Record<DeliveryChannel, Channel> = {
  SMS: sms,
  RCS: rcs,
  WHATSAPP: whatsapp,
  CALL: call,
  EMAIL: email,
  SNA: undefined,
};

/** Does a number handle RCS? A provider adapter answers; the sandbox answers from a static list. */
export interface RcsCapability {
  isCapable(to: string): Promise<boolean>;
}

export const staticRcsCapability = (numbers: readonly string[]): RcsCapability => {
  const set = new Set(numbers);
  return { isCapable: async (to) => set.has(to) };
};

export interface RoutingOptions {
  rcs: RcsCapability | null;
  whatsappFallbackToSms: boolean;
}

/**
 * The transports one send attempt tries, in order; the first that accepts the message is the channel
 * the attempt records. SMS is upgraded to RCS where the handset supports it, and falls back to SMS.
 */
export async function route(channel: DeliveryChannel, to: string, options: RoutingOptions): Promise<AttemptChannel[]> {
  if (channel === "SMS" && options.rcs && (await options.rcs.isCapable(to))) return ["RCS", "SMS"];
  if (channel === "WHATSAPP" && options.whatsappFallbackToSms) return ["WHATSAPP", "SMS"];
  return [channel];
}
