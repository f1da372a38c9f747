import type { EventSink } from "../../domain/events.js";
import type { ApiKey, OutboxMessage, Service, ServiceSettings } from "../../domain/types.js";
import type { CheckJudge, CheckRequest, DeliveryContext, DeliveryReceipt, DeliveryResult, PageRequest, SnaResult, StartPlan, StatusChange, VerificationFilter } from "../port.js";
import { toDeliveryContext } from "../rows.js";
import { deliveries } from "./deliveries.js";
import type { Runner } from "./ops.js";
import { services } from "./services.js";
import { verifications } from "./verifications.js";

/**
 * The store, written once: every method runs a unit of ./*.ts through the dialect's runner (the
 * embedded store's group commit, or a PostgreSQL transaction). Events written by a unit are published
 * by the runner after commit, to the sink given to `publishTo`.
 */
export abstract class SharedStore {
  protected sink: EventSink | null = null;
  protected abstract readonly runner: Runner;
  /** Parsed services by sid, where the store is this process's alone (one writer): see SqliteStore. */
  protected readonly serviceCache: Map<string, Service> | null = null;

  /** Where committed events go (live subscribers, metrics, the dispatcher). */
  publishTo(sink: EventSink): void {
    this.sink = sink;
  }

  // --- settings, services, API keys, event log, dev outbox ---------------------------------------
  getSetting(key: string) {
    return this.runner.read((q) => services.getSetting(q, key));
  }
  initSetting(key: string, value: string) {
    return this.runner.write((q) => services.initSetting(q, key, value));
  }
  createService(service: Service) {
    return this.runner.write((q) => services.create(q, service));
  }
  updateService(sid: string, patch: Partial<ServiceSettings>, now: number) {
    this.serviceCache?.delete(sid);
    return this.runner.write((q) => {
      this.serviceCache?.delete(sid);
      return services.update(q, sid, patch, now);
    });
  }
  async getService(sid: string): Promise<Service | null> {
    const cached = this.serviceCache?.get(sid);
    if (cached) return cached;
    const service = await this.runner.read((q) => services.get(q, sid));
    if (service && this.serviceCache) this.serviceCache.set(sid, Object.freeze(service));
    return service;
  }
  listServices(page: PageRequest) {
    return this.runner.read((q) => services.list(q, page));
  }
  countServices() {
    return this.runner.read((q) => services.count(q));
  }
  createApiKey(key: ApiKey, keyHash: string) {
    return this.runner.write((q) => services.createApiKey(q, key, keyHash));
  }
  findApiKeyByHash(keyHash: string) {
    return this.runner.read((q) => services.findApiKeyByHash(q, keyHash));
  }
  revokeApiKey(sid: string, serviceSid: string | null, now: number) {
    return this.runner.write((q) => services.revokeApiKey(q, sid, serviceSid, now));
  }
  listApiKeys(serviceSid: string) {
    return this.runner.read((q) => services.listApiKeys(q, serviceSid));
  }
  listEvents(resourceSid: string) {
    return this.runner.read((q) => services.listEvents(q, resourceSid));
  }
  addDevMessage(message: OutboxMessage) {
    return this.runner.write((q) => services.addDevMessage(q, message));
  }
  listDevMessages(to: string | null, limit: number) {
    return this.runner.read((q) => services.listDevMessages(q, to, limit));
  }

  // --- verifications, SNA, deliveries ---------------------------------------------------------------
  startVerification(plan: StartPlan) {
    return this.runner.write((q) => verifications.start(q, plan));
  }
  checkVerification(request: CheckRequest, judge: CheckJudge) {
    return this.runner.write((q) => verifications.check(q, request, judge));
  }
  setVerificationStatus(request: StatusChange) {
    return this.runner.write((q) => verifications.setStatus(q, request));
  }
  expireDue(now: number, limit: number) {
    return this.runner.write((q) => verifications.expireDue(q, now, limit));
  }
  getVerification(sid: string) {
    return this.runner.read((q) => verifications.get(q, sid));
  }
  listVerifications(serviceSid: string, filter: VerificationFilter, page: PageRequest) {
    return this.runner.read((q) => verifications.list(q, serviceSid, filter, page));
  }
  openSnaSession(tokenHash: string, now: number) {
    return this.runner.write((q) => verifications.openSnaSession(q, tokenHash, now));
  }
  recordSnaResult(result: SnaResult) {
    return this.runner.write((q) => verifications.recordSnaResult(q, result));
  }
  snaTimedOut(jobId: number, verificationSid: string, fallbackAttemptSid: string, now: number) {
    return this.runner.write((q) => verifications.snaTimedOut(q, jobId, verificationSid, fallbackAttemptSid, now));
  }
  async deliveryContext(attemptSid: string): Promise<DeliveryContext | null> {
    const found = await this.runner.read((q) => deliveries.context(q, attemptSid));
    const service = found && (await this.getService(found.row.serviceSid));
    return found && service ? toDeliveryContext(found.row, found.attempt, service) : null;
  }
  recordDelivery(result: DeliveryResult) {
    return this.runner.write((q) => deliveries.recordDelivery(q, result));
  }
  recordReceipt(receipt: DeliveryReceipt) {
    return this.runner.write((q) => deliveries.recordReceipt(q, receipt));
  }
  settleAbandonedAttempts(now: number, limit: number) {
    return this.runner.write((q) => deliveries.settleAbandoned(q, now, limit));
  }

  // --- factors, challenges --------------------------------------------------------------------------

  // --- outbox, webhooks, fraud, insights -----------------------------------------------------------
}
