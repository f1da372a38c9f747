import { registerChannel } from "../domain/channels.js";
import type { AttemptChannel, DeliveryChannel } from "../domain/types.js";
import { call } from "./call/index.js";
import type { Channel, ChannelPlugin, RcsCapability, RoutingOptions } from "./channel.js";
import { email } from "./email/index.js";
import { rcs, sms } from "./sms/index.js";
import { auto, sna } from "./sna/index.js";
import { whatsapp } from "./whatsapp/index.js";

export type { RcsCapability, RoutingOptions } from "./channel.js";

/** The channels that word messages, by name (SNA and AUTO word none). */
export const channels: Record<AttemptChannel, Channel | undefined> = {};
const plugins = new Map<string, ChannelPlugin>();

/**
 * Adds a channel: its traits go into the domain's catalogue (every list, enum and rule derives from it),
 * its wording and routing here. Before the schema is built, the schema's enums include it.
 */
export function registerChannelPlugin(plugin: ChannelPlugin): void {
  registerChannel(plugin);
  plugins.set(plugin.name, plugin);
  if (plugin.render) channels[plugin.name] = { name: plugin.name, address: plugin.address, render: plugin.render };
}

/** Adding a channel: one folder and one line here. */
for (const plugin of [sms, rcs, whatsapp, call, email, sna, auto]) registerChannelPlugin(plugin);

export const staticRcsCapability = (numbers: readonly string[]): RcsCapability => {
  const set = new Set(numbers);
  return { isCapable: async (to) => set.has(to) };
};

/**
 * The transports one send attempt tries, in order; the first that accepts the message is the channel
 * the attempt records. Each channel routes itself (SMS may be upgraded to RCS, WhatsApp fall back to SMS).
 */
export async function route(channel: DeliveryChannel, to: string, options: RoutingOptions): Promise<AttemptChannel[]> {
  return (await plugins.get(channel)?.route?.(to, options)) ?? [channel];
}
