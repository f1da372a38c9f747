import type { Clock } from "../domain/clock.js";
import type { DeliveryChannel } from "../domain/types.js";
import type { Store } from "../store/port.js";
import { devOutboxProvider } from "./dev-outbox/index.js";
import type { Provider } from "./provider.js";

export type ProviderRegistry = Record<DeliveryChannel, Provider>;

/** Which transport carries each channel. Real transports plug in here (one folder + one line). */
export function buildProviders(deps: { store: Store; clock: Clock }): ProviderRegistry {
  const dev = devOutboxProvider(deps.store, deps.clock);
  return { SMS: dev, WHATSAPP: dev, CALL: dev, EMAIL: dev };
}

export const usesDevOutbox = (providers: ProviderRegistry): boolean => Object.values(providers).some((p) => p.name === "dev-outbox");
