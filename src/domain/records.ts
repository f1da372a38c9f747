import type { WebhookDeliveryStatus } from "./types.js";
import type { AttemptFilter, PageRequest, StatsFilter, DomainStore as Store, VerificationFilter } from "./ports/index.js";

/** The store's read side that the API lists from. */
export type RecordsPort = Pick<
  Store,
  | "listServices"
  | "listApiKeys"
  | "listVerifications"
  | "listVerificationAttempts"
  | "verificationStats"
  | "verificationStatsOverTime"
  | "listFraudBlocks"
  | "listWebhooks"
  | "listWebhookDeliveries"
  | "listDevMessages"
  | "pageEvents"
>;

/**
 * The lists and reports the API reads (history, logs, statistics): resolvers check access, then ask here;
 * they never reach the store themselves.
 */
export class Records {
  constructor(private readonly store: RecordsPort) {}

  services(page: PageRequest) {
    return this.store.listServices(page);
  }
  apiKeys(serviceSid: string) {
    return this.store.listApiKeys(serviceSid);
  }
  verifications(serviceSid: string, filter: VerificationFilter, page: PageRequest) {
    return this.store.listVerifications(serviceSid, filter, page);
  }
  attempts(serviceSid: string, filter: AttemptFilter, page: PageRequest) {
    return this.store.listVerificationAttempts(serviceSid, filter, page);
  }
  stats(serviceSid: string, filter: StatsFilter) {
    return this.store.verificationStats(serviceSid, filter);
  }
  statsOverTime(serviceSid: string, filter: StatsFilter, bucketMs: number) {
    return this.store.verificationStatsOverTime(serviceSid, filter, bucketMs);
  }
  /** `activeAt`: only blocks still in force then (null: all). */
  fraudBlocks(serviceSid: string, activeAt: number | null, page: PageRequest) {
    return this.store.listFraudBlocks(serviceSid, activeAt, page);
  }
  webhooks(serviceSid: string) {
    return this.store.listWebhooks(serviceSid);
  }
  webhookDeliveries(webhookSid: string, status: WebhookDeliveryStatus | null, page: PageRequest) {
    return this.store.listWebhookDeliveries(webhookSid, status, page);
  }
  /** A resource's events, oldest first; `serviceSid` (null: the admin, every service) scopes them. */
  events(resourceSid: string, serviceSid: string | null, page: PageRequest) {
    return this.store.pageEvents(resourceSid, serviceSid, page);
  }
  devMessages(to: string | null, limit: number) {
    return this.store.listDevMessages(to, limit);
  }
}
