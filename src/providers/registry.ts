import type { Logger } from "pino";
import { type RcsCapability, staticRcsCapability } from "../channels/registry.js";
import type { DeliveryConfig } from "../config.js";
import type { Clock } from "../domain/clock.js";
import { deliveryChannels } from "../domain/channels.js";
import type { AttemptChannel, DeliveryChannel } from "../domain/types.js";
import type { ServiceStore as Store } from "../domain/ports/index.js";
import { devOutboxProvider } from "./dev-outbox/index.js";
import { transportPlugins } from "./plugins.js";
import type { Provider, ReceiptListener, TransportDeps } from "./provider.js";

export type ProviderRegistry = Partial<Record<AttemptChannel, Provider>>;

export interface Transports {
  providers: ProviderRegistry;
  rcs: RcsCapability | null;
  /** Channels still delivering into the dev outbox. */
  devChannels: DeliveryChannel[];
  /** The dev outbox itself: where test numbers' messages go, whatever the channel's transport. */
  devOutbox: Provider;
  close(): Promise<void>;
}

/**
 * Which transport carries each channel, from configuration: for each channel, the first transport of
 * the list (src/providers/plugins.ts) configured for it; a channel a transport must carry and none is
 * configured for delivers into the dev outbox.
 */
export function buildTransports(deps: { config: DeliveryConfig; store: Store; clock: Clock; logger: Logger; onReceipt: ReceiptListener }): Transports {
  const { config } = deps;
  const dev = devOutboxProvider(deps.store, deps.clock);
  const transportDeps: TransportDeps = { store: deps.store, clock: deps.clock, logger: deps.logger, onReceipt: deps.onReceipt, timeoutMs: config.timeoutMs, devOutbox: dev };
  const plugins = transportPlugins();
  const providers: ProviderRegistry = {};
  const channels = new Set([...deliveryChannels(), ...plugins.flatMap((p) => Object.keys(p.channels))]);
  for (const channel of channels) {
    for (const plugin of plugins) {
      if (!(channel in plugin.channels)) continue;
      const options = plugin.options(config.env, channel);
      if (options === null) continue;
      providers[channel] = plugin.create(options, transportDeps);
      break;
    }
  }
  const devChannels = deliveryChannels().filter((c) => !providers[c]);
  for (const c of devChannels) providers[c] = dev;
  return {
    providers,
    rcs: providers.RCS ? staticRcsCapability(config.rcsCapableNumbers) : null,
    devChannels,
    devOutbox: dev,
    async close() {
      await Promise.all([...new Set(Object.values(providers))].map((p) => p?.close?.()));
    },
  };
}

/** What to set so that a channel leaves the dev outbox: each transport's variable for it. */
export const transportVariables = (channel: AttemptChannel): string =>
  transportPlugins()
    .flatMap((p) => (p.channels[channel] ? [p.channels[channel]] : []))
    .join(" or ") || "a transport";
