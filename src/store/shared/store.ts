import type { EventSink } from "../../domain/events.js";
import type { Template } from "../../domain/template/templates.js";
import type {
  ApiKey,
  Challenge,
  ChallengeStatus,
  Entity,
  FactorType,
  FraudBlock,
  OutboxMessage,
  PasskeyCredential,
  Service,
  ServiceSettings,
  VerifyEvent,
  Webhook,
  WebhookDeliveryStatus,
} from "../../domain/types.js";
import type {
  AttemptClaim,
  AttemptFilter,
  ChallengeFailure,
  ChallengeResponse,
  FactorFailure,
  FactorPatch,
  EntityChallengeFilter,
  NewFactor,
  PageRequest,
  PrefixTrafficQuery,
  StatsFilter,
  TemplateFilter,
  TemplatePatch,
  WebhookAttemptResult,
  WebhookPatch,
  CheckJudge,
  CheckRequest,
  DeliveryContext,
  DeliveryReceipt,
  DeliveryResult,
  SnaResult,
  StartPlan,
  StatusChange,
  VerificationFilter,
} from "../port.js";
import { type ChallengeExtra, challenges } from "./challenges.js";
import { factors } from "./factors.js";
import { fraud } from "./fraud.js";
import { insights } from "./insights.js";
import { toDeliveryContext } from "../rows.js";
import { deliveries } from "./deliveries.js";
import type { Runner } from "./ops.js";
import { outbox } from "./outbox.js";
import { services } from "./services.js";
import { templates } from "./templates.js";
import { webhooks } from "./webhooks.js";
import { verifications } from "./verifications.js";

/**
 * Parsed services by sid. An entry lives `ttlMs` at most (Infinity where this process is the only
 * writer); `forget` drops one when its service changes here (updateService) or on another instance
 * (`heard`), and a read that began before a forget does not put its older copy back (`generation`).
 */
export class ServiceCache {
  private readonly entries = new Map<string, { service: Service; until: number }>();
  /** Moves on every forget. */
  generation = 0;

  constructor(private readonly ttlMs: number) {}

  get(sid: string): Service | undefined {
    const entry = this.entries.get(sid);
    if (!entry) return undefined;
    if (entry.until !== Number.POSITIVE_INFINITY && entry.until <= Date.now()) {
      this.entries.delete(sid);
      return undefined;
    }
    return entry.service;
  }

  /** Keeps a service read when the generation was `generation` (none if a forget came since). */
  set(sid: string, service: Service, generation: number): void {
    if (generation !== this.generation) return;
    this.entries.set(sid, { service, until: this.ttlMs === Number.POSITIVE_INFINITY ? this.ttlMs : Date.now() + this.ttlMs });
  }

  forget(sid: string): void {
    this.generation++;
    this.entries.delete(sid);
  }
}

/**
 * The store, written once: every method runs a unit of ./*.ts through the dialect's runner (the
 * embedded store's group commit, or a PostgreSQL transaction). Events written by a unit are published
 * by the runner after commit, to the sink given to `publishTo`.
 */
export abstract class SharedStore {
  protected sink: EventSink | null = null;
  protected abstract readonly runner: Runner;
  /** Parsed services by sid (every start reads its service): see SqliteStore and PgStore. */
  protected abstract readonly serviceCache: ServiceCache;

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
  addSetting(key: string, value: string) {
    return this.runner.write((q) => services.addSetting(q, key, value));
  }
  deleteSetting(key: string) {
    return this.runner.write((q) => services.deleteSetting(q, key));
  }
  createService(service: Service) {
    return this.runner.write((q) => services.create(q, service));
  }
  updateService(sid: string, change: (current: Service) => Partial<ServiceSettings>, now: number) {
    this.serviceCache.forget(sid);
    return this.runner
      .write((q) => {
        this.serviceCache.forget(sid);
        return services.update(q, sid, change, now);
      })
      .finally(() => this.serviceCache.forget(sid));
  }
  deleteService(sid: string, now: number) {
    this.serviceCache.forget(sid);
    return this.runner
      .write((q) => {
        this.serviceCache.forget(sid);
        return services.delete(q, sid, now);
      })
      .finally(() => this.serviceCache.forget(sid));
  }
  async getService(sid: string): Promise<Service | null> {
    const cached = this.serviceCache.get(sid);
    if (cached) return cached;
    const generation = this.serviceCache.generation;
    const service = await this.runner.read((q) => services.get(q, sid));
    if (service) this.serviceCache.set(sid, Object.freeze(service), generation);
    return service;
  }
  /** Events of other instances (over Redis): a service changed there is read again here. */
  heard(events: readonly VerifyEvent[]): void {
    for (const event of events) if (event.type === "service.updated" || event.type === "service.deleted") this.serviceCache.forget(event.resourceSid);
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
  pageEvents(resourceSid: string, serviceSid: string | null, page: PageRequest) {
    return this.runner.read((q) => services.pageEvents(q, resourceSid, serviceSid, page));
  }
  recentEvents(serviceSid: string, limit: number) {
    return this.runner.read((q) => services.recentEvents(q, serviceSid, limit));
  }
  addDevMessage(message: OutboxMessage) {
    return this.runner.write((q) => services.addDevMessage(q, message), true);
  }
  listDevMessages(to: string | null, limit: number) {
    return this.runner.read((q) => services.listDevMessages(q, to, limit));
  }

  // --- message templates --------------------------------------------------------------------------
  createTemplate(template: Template) {
    return this.runner.write((q) => templates.create(q, template));
  }
  updateTemplate(sid: string, serviceSid: string | null, patch: TemplatePatch, now: number) {
    return this.runner.write((q) => templates.update(q, sid, serviceSid, patch, now));
  }
  deleteTemplate(sid: string, serviceSid: string | null) {
    return this.runner.write((q) => templates.delete(q, sid, serviceSid));
  }
  getTemplate(sid: string) {
    return this.runner.read((q) => templates.get(q, sid));
  }
  countTemplates(serviceSid: string) {
    return this.runner.read((q) => templates.count(q, serviceSid));
  }
  listTemplates(filter: TemplateFilter, page: PageRequest) {
    return this.runner.read((q) => templates.list(q, filter, page));
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
    return found && service ? toDeliveryContext(found.row, found.attempt, service, found.template) : null;
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
  ensureEntity(entity: Entity, now: number) {
    return this.runner.write((q) => factors.ensureEntity(q, entity, now));
  }
  getEntity(serviceSid: string, identity: string) {
    return this.runner.read((q) => factors.getEntity(q, serviceSid, identity));
  }
  listEntities(serviceSid: string, page: PageRequest) {
    return this.runner.read((q) => factors.listEntities(q, serviceSid, page));
  }
  listEntityFactors(serviceSid: string, identity: string, page: PageRequest) {
    return this.runner.read((q) => factors.listOfEntity(q, serviceSid, identity, page));
  }
  deleteEntity(serviceSid: string, identity: string, now: number) {
    return this.runner.write((q) => factors.deleteEntity(q, serviceSid, identity, now));
  }
  findFactorByPendingChallenge(serviceSid: string, challenge: string) {
    return this.runner.read((q) => factors.findByPendingChallenge(q, serviceSid, challenge));
  }
  findChallengeByWebauthn(serviceSid: string, webauthnChallenge: string) {
    return this.runner.read((q) => challenges.findByWebauthn(q, serviceSid, webauthnChallenge));
  }
  queueChallengeNotice(sid: string, now: number) {
    return this.runner.write((q) => challenges.queueNotice(q, sid, now));
  }
  listEntityChallenges(filter: EntityChallengeFilter, page: PageRequest) {
    return this.runner.read((q) => challenges.listOfEntity(q, filter, page));
  }
  createFactor(factor: NewFactor) {
    return this.runner.write((q) => factors.create(q, factor));
  }
  getFactor(sid: string) {
    return this.runner.read((q) => factors.get(q, sid));
  }
  listPasskeys(serviceSid: string, identity: string) {
    return this.runner.read((q) => factors.listPasskeys(q, serviceSid, identity));
  }
  findPasskey(serviceSid: string, credentialId: string) {
    return this.runner.read((q) => factors.findPasskey(q, serviceSid, credentialId));
  }
  newestVerifiedFactor(serviceSid: string, identity: string, factorType: FactorType) {
    return this.runner.read((q) => factors.newestVerified(q, serviceSid, identity, factorType));
  }
  claimFactorVerification(claim: AttemptClaim) {
    return this.runner.write((q) => factors.claimVerification(q, claim));
  }
  verifyFactor(sid: string, proof: { credential?: PasskeyCredential; counter?: number }, now: number) {
    return this.runner.write((q) => factors.verify(q, sid, proof, now));
  }
  failFactor(failure: FactorFailure) {
    return this.runner.write((q) => factors.fail(q, failure));
  }
  deleteFactor(sid: string, now: number) {
    return this.runner.write((q) => factors.delete(q, sid, now));
  }
  updateFactor(sid: string, patch: FactorPatch, now: number) {
    return this.runner.write((q) => factors.update(q, sid, patch, now));
  }
  expireChallenges(now: number, limit: number) {
    return this.runner.write((q) => challenges.expire(q, now, limit));
  }
  createChallenge(challenge: Challenge, extra: ChallengeExtra) {
    return this.runner.write((q) => challenges.create(q, challenge, extra));
  }
  getChallenge(sid: string) {
    return this.runner.read((q) => challenges.get(q, sid));
  }
  listChallenges(factorSid: string, status: ChallengeStatus | null, page: PageRequest) {
    return this.runner.read((q) => challenges.list(q, factorSid, status, page));
  }
  linkChallengeFallback(sid: string, verificationSid: string, now: number) {
    return this.runner.write((q) => challenges.linkFallback(q, sid, verificationSid, now));
  }
  findChallengeByFallback(verificationSid: string) {
    return this.runner.read((q) => challenges.findByFallback(q, verificationSid));
  }
  respondChallenge(response: ChallengeResponse) {
    return this.runner.write((q) => challenges.respond(q, response));
  }
  claimChallengeAnswer(claim: AttemptClaim) {
    return this.runner.write((q) => challenges.claimAnswer(q, claim));
  }
  failChallenge(failure: ChallengeFailure) {
    return this.runner.write((q) => challenges.fail(q, failure));
  }

  // --- outbox, webhooks, fraud, insights -----------------------------------------------------------
  // The outbox's writes are one statement each (`solo`: no BEGIN/COMMIT on PostgreSQL).
  claimJobs(now: number, leaseMs: number, limit: number) {
    return this.runner.write((q) => outbox.claimJobs(q, now, leaseMs, limit), true);
  }
  retryJob(jobId: number, runAt: number, error: string) {
    return this.runner.write((q) => outbox.retryJob(q, jobId, runAt, error), true);
  }
  extendLeases(jobIds: number[], until: number) {
    return this.runner.write((q) => outbox.extendLeases(q, jobIds, until), true);
  }
  dropJob(jobId: number) {
    return this.runner.write((q) => outbox.dropJob(q, jobId), true);
  }
  pendingJobCount() {
    return this.runner.read((q) => outbox.pendingJobCount(q));
  }
  createWebhook(webhook: Webhook, secretSealed: string) {
    return this.runner.write((q) => webhooks.create(q, webhook, secretSealed));
  }
  updateWebhook(sid: string, serviceSid: string | null, patch: WebhookPatch, now: number) {
    return this.runner.write((q) => webhooks.update(q, sid, serviceSid, patch, now));
  }
  deleteWebhook(sid: string, serviceSid: string | null, now: number) {
    return this.runner.write((q) => webhooks.delete(q, sid, serviceSid, now));
  }
  testWebhook(sid: string, serviceSid: string | null, now: number) {
    return this.runner.write((q) => webhooks.test(q, sid, serviceSid, now));
  }
  retryWebhookDelivery(id: number, serviceSid: string | null, now: number) {
    return this.runner.write((q) => webhooks.retryDelivery(q, id, serviceSid, now));
  }
  getWebhook(sid: string) {
    return this.runner.read((q) => webhooks.get(q, sid));
  }
  listWebhooks(serviceSid: string) {
    return this.runner.read((q) => webhooks.list(q, serviceSid));
  }
  webhookJob(deliveryId: number) {
    return this.runner.read((q) => webhooks.job(q, deliveryId));
  }
  recordWebhookAttempt(result: WebhookAttemptResult) {
    return this.runner.write((q) => webhooks.recordAttempt(q, result));
  }
  listWebhookDeliveries(webhookSid: string, status: WebhookDeliveryStatus | null, page: PageRequest) {
    return this.runner.read((q) => webhooks.listDeliveries(q, webhookSid, status, page));
  }
  fraudBlocks(serviceSid: string, prefix: string, since: number) {
    return this.runner.read((q) => fraud.blocks(q, serviceSid, prefix, since));
  }
  prefixTraffic(query: PrefixTrafficQuery) {
    return this.runner.read((q) => fraud.prefixTraffic(q, query));
  }
  recordFraudBlock(block: FraudBlock, data: Record<string, unknown>) {
    return this.runner.write((q) => fraud.recordBlock(q, block, data));
  }
  liftFraudBlock(sid: string, serviceSid: string | null, now: number) {
    return this.runner.write((q) => fraud.liftBlock(q, sid, serviceSid, now));
  }
  listFraudBlocks(serviceSid: string, activeAt: number | null, page: PageRequest) {
    return this.runner.read((q) => fraud.listBlocks(q, serviceSid, activeAt, page));
  }
  listVerificationAttempts(serviceSid: string | null, filter: AttemptFilter, page: PageRequest) {
    return this.runner.read((q) => insights.listAttempts(q, serviceSid, filter, page));
  }
  getVerificationAttempt(sid: string) {
    return this.runner.read((q) => insights.getAttempt(q, sid));
  }
  verificationAttemptsSummary(serviceSid: string | null, filter: AttemptFilter) {
    return this.runner.read((q) => insights.attemptsSummary(q, serviceSid, filter));
  }
  verificationStats(serviceSid: string, filter: StatsFilter) {
    return this.runner.read((q) => insights.stats(q, serviceSid, filter));
  }
  verificationStatsOverTime(serviceSid: string, filter: StatsFilter, bucketMs: number) {
    return this.runner.read((q) => insights.overTime(q, serviceSid, filter, bucketMs));
  }
}
