import type { Logger } from "pino";
import { type RcsCapability, staticRcsCapability } from "../channels/registry.js";
import type { DeliveryConfig } from "../config.js";
import type { Clock } from "../domain/clock.js";
import type { AttemptChannel, DeliveryChannel } from "../domain/types.js";
import type { Store } from "../store/port.js";
import { devOutboxProvider } from "./dev-outbox/index.js";
import { httpProvider } from "./http/index.js";
import type { Provider, ReceiptListener } from "./provider.js";
import { smppProvider } from "./smpp/index.js";
import { smtpProvider } from "./smtp/index.js";
import { whatsappProvider } from "./whatsapp/index.js";

export type ProviderRegistry = Partial<Record<AttemptChannel, Provider>> & Record<DeliveryChannel, Provider>;

export interface Transports {
  providers: ProviderRegistry;
  rcs: RcsCapability | null;
  /** Channels still delivering into the dev outbox. */
  devChannels: DeliveryChannel[];
  /** The dev outbox itself: where test numbers' messages go, whatever the channel's transport. */
  devOutbox: Provider;
  close(): Promise<void>;
}

/** Which transport carries each channel, from configuration. Adding one: a folder and a line here. */
export function buildTransports(deps: { config: DeliveryConfig; store: Store; clock: Clock; logger: Logger; onReceipt: ReceiptListener }): Transports {
  const { config } = deps;
  const dev = devOutboxProvider(deps.store, deps.clock);
  const http = (channel: AttemptChannel, url: string | null) =>
    url && config.http.secret ? httpProvider({ channel, url, secret: config.http.secret, from: config.http.from }) : null;
  const sms = config.smpp
    ? smppProvider({ ...config.smpp, logger: deps.logger, onReceipt: deps.onReceipt })
    : (http("SMS", config.http.sms) ?? dev);
  const providers: ProviderRegistry = {
    SMS: sms,
    WHATSAPP: config.whatsapp ? whatsappProvider(config.whatsapp) : dev,
    CALL: http("CALL", config.http.call) ?? dev,
    EMAIL: config.smtp ? smtpProvider({ ...config.smtp, timeoutMs: config.timeoutMs }) : dev,
  };
  // RCS: a vendor over HTTP; without one, the sandbox list of capable numbers delivers into the dev outbox.
  const rcsProvider = http("RCS", config.http.rcs) ?? (config.rcsCapableNumbers.length > 0 ? dev : null);
  if (rcsProvider) providers.RCS = rcsProvider;
  const devChannels = (["SMS", "WHATSAPP", "CALL", "EMAIL"] as const).filter((c) => providers[c] === dev);
  return {
    providers,
    rcs: rcsProvider ? staticRcsCapability(config.rcsCapableNumbers) : null,
    devChannels,
    devOutbox: dev,
    async close() {
      await Promise.all(Object.values(providers).map((p) => p?.close?.()));
    },
  };
}
