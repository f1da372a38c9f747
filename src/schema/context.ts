import type { Clock } from "../domain/clock.js";
import type { Keyring } from "../domain/crypto.js";
import type { ServiceDirectory } from "../domain/service/directory.js";
import type { AccountSafeList } from "../domain/service/safelist.js";
import type { VerificationFlow } from "../domain/verification/flow.js";
import type { PasskeyFlow } from "../domain/factor/passkeys.js";
import type { FactorFlow } from "../domain/factor/factors.js";
import type { PushNotifier } from "../providers/push/notifier.js";
import type { TemplateDirectory } from "../domain/template/templates.js";
import type { WebhookDirectory } from "../domain/webhook/directory.js";
import type { EventBus } from "../realtime/bus.js";
import type { Principal } from "../domain/access/principal.js";
import type { Records } from "../domain/records.js";

/** What resolvers may reach: the domain's entry points, never SQL or HTTP. */
export interface Gateway {
  records: Records;
  services: ServiceDirectory;
  /** The account's safe list (admin only): Twilio's SafeList/Numbers. */
  accountSafeList: AccountSafeList;
  verifications: VerificationFlow;
  passkeys: PasskeyFlow;
  factors: FactorFlow;
  notifier: PushNotifier;
  webhooks: WebhookDirectory;
  templates: TemplateDirectory;
  bus: EventBus;
  keys: Keyring;
  clock: Clock;
}

export interface GatewayContext {
  principal: Principal;
  gateway: Gateway;
  /** The peer address of the request's connection (security logs). */
  clientAddress: string | null;
}
