import type { WebhookDeliveryStatus } from "./types.js";
import type { AttemptFilter, PageRequest, TemplateFilter, StatsFilter, DomainStore as Store, VerificationFilter } from "./ports/index.js";

/** The store's read side that the API lists from. */
export type RecordsPort = Pick<
  Store,
  | "listServices"
  | "listApiKeys"
  | "listVerifications"
  | "listVerificationAttempts"
  | "verificationStats"
  | "verificationStatsOverTime"
  | "getVerificationAttempt"
  | "verificationAttemptsSummary"
  | "listFraudBlocks"
  | "listWebhooks"
  | "listWebhookDeliveries"
  | "listDevMessages"
  | "pageEvents"
  | "recentEvents"
  | "listTemplates"
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
  /** The attempts log of one service, or of every service (null: the admin's account-wide view). */
  attempts(serviceSid: string | null, filter: AttemptFilter, page: PageRequest) {
    return this.store.listVerificationAttempts(serviceSid, filter, page);
  }
  attempt(sid: string) {
    return this.store.getVerificationAttempt(sid);
  }
  /** Attempts that match and how many converted (Twilio's Attempts/Summary). */
  attemptsSummary(serviceSid: string | null, filter: AttemptFilter) {
    return this.store.verificationAttemptsSummary(serviceSid, filter);
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

  /** A service's last `limit` events, oldest first (a live stream's replay). */
  recentEvents(serviceSid: string, limit: number) {
    return this.store.recentEvents(serviceSid, limit);
  }

  /** Oldest first; serviceSid null: every service's. */
  templates(filter: TemplateFilter, page: PageRequest) {
    return this.store.listTemplates(filter, page);
  }
  devMessages(to: string | null, limit: number) {
    return this.store.listDevMessages(to, limit);
  }
}
