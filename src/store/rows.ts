import type {
  ChallengeStatus,
  FactorStatus,
  FactorType,
  ApiKey,
  AttemptChannel,
  ChannelName,
  DeliveryOptions,
  DeliveryStatus,
  FraudBlock,
  Service,
  ServiceSettings,
  Verification,
  VerificationAttempt,
  VerificationStatus,
  Webhook,
  WebhookDelivery,
} from "../domain/types.js";
import { serviceDefaults, withNamedSids } from "../domain/service/settings.js";
import type { AppliedTemplate, Template, TemplateTexts } from "../domain/template/templates.js";
import { encodeCursor } from "./cursor.js";
// The projections clients see live in the domain; re-exported for older imports.
export { publicChallenge, publicFactor } from "../domain/factor/projections.js";
import type { ChallengeRecord, DeliveryContext, FactorRecord } from "./port.js";
import type * as t from "./sqlite/schema.js";

// Row shapes are the same in both dialects (the PostgreSQL schema mirrors the SQLite one column for
// column), so one set of mappers serves both stores.
export type ServiceRow = typeof t.services.$inferSelect;
export type VerificationRow = typeof t.verifications.$inferSelect;
export type AttemptRow = typeof t.sendAttempts.$inferSelect;
export type ApiKeyRow = typeof t.apiKeys.$inferSelect;
export type TemplateRow = typeof t.templates.$inferSelect;

export function toTemplate(row: TemplateRow): Template {
  const { seq: _seq, translations, ...rest } = row;
  return { ...rest, translations: JSON.parse(translations) as TemplateTexts };
}

export function pageOf<R extends { seq: number }, T>(rows: R[], first: number, map: (row: R) => T) {
  const hasNextPage = rows.length > first;
  const kept = hasNextPage ? rows.slice(0, first) : rows;
  const edges = kept.map((row) => ({ cursor: encodeCursor(row.seq), node: map(row) }));
  return { edges, hasNextPage, endCursor: edges.at(-1)?.cursor ?? null };
}

export function toService(row: ServiceRow): Service {
  const { seq: _seq, channels, testNumbers, fraudGuard, passkeys, totp, rateLimits, geoPermissions, safeList, messagingConfigurations, ...rest } = row;
  return {
    ...rest,
    channels: JSON.parse(channels) as ChannelName[],
    testNumbers: JSON.parse(testNumbers),
    fraudGuard: fraudGuard as Service["fraudGuard"],
    passkeys: passkeys ? JSON.parse(passkeys) : serviceDefaults().passkeys,
    totp: totp ? JSON.parse(totp) : serviceDefaults().totp,
    // Services created before abuse protection existed read as the defaults.
    rateLimits: rateLimits ? withNamedSids(JSON.parse(rateLimits), rest.sid, rest.dateCreated) : serviceDefaults().rateLimits,
    geoPermissions: geoPermissions ? JSON.parse(geoPermissions) : [],
    safeList: safeList ? JSON.parse(safeList) : [],
    messagingConfigurations: messagingConfigurations ? JSON.parse(messagingConfigurations) : [],
  };
}

export function fromSettings(settings: Partial<ServiceSettings>) {
  const { channels, testNumbers, passkeys, totp, rateLimits, geoPermissions, safeList, messagingConfigurations, ...rest } = settings;
  return {
    ...rest,
    ...(channels ? { channels: JSON.stringify(channels) } : {}),
    ...(testNumbers ? { testNumbers: JSON.stringify(testNumbers) } : {}),
    ...(passkeys ? { passkeys: JSON.stringify(passkeys) } : {}),
    ...(totp ? { totp: JSON.stringify(totp) } : {}),
    ...(rateLimits ? { rateLimits: JSON.stringify(rateLimits) } : {}),
    ...(geoPermissions ? { geoPermissions: JSON.stringify(geoPermissions) } : {}),
    ...(safeList ? { safeList: JSON.stringify(safeList) } : {}),
    ...(messagingConfigurations ? { messagingConfigurations: JSON.stringify(messagingConfigurations) } : {}),
  };
}

export function fromService(service: Service) {
  return { ...fromSettings(service), channels: JSON.stringify(service.channels), testNumbers: JSON.stringify(service.testNumbers) } as typeof t.services.$inferInsert;
}

export type FraudBlockRow = typeof t.fraudBlocks.$inferSelect;
export const toFraudBlock = ({ seq: _seq, level, ...row }: FraudBlockRow): FraudBlock => ({ ...row, level: level as FraudBlock["level"] });

export type WebhookRow = typeof t.webhooks.$inferSelect;
export const toWebhook = (row: WebhookRow): Webhook => ({
  sid: row.sid,
  serviceSid: row.serviceSid,
  url: row.url,
  friendlyName: row.friendlyName,
  eventTypes: JSON.parse(row.eventTypes) as string[],
  enabled: row.enabled,
  format: row.format === "twilio" ? "twilio" : "standard",
  dateCreated: row.dateCreated,
  dateUpdated: row.dateUpdated,
});

export type WebhookDeliveryRow = typeof t.webhookDeliveries.$inferSelect;
export const toWebhookDelivery = ({ seq, status, ...row }: WebhookDeliveryRow): WebhookDelivery => ({ ...row, id: seq, status: status as WebhookDelivery["status"] });

/** The attempts log: a send attempt with its verification's outcome. */
export function toVerificationAttempt(attempt: AttemptRow, verification: Pick<VerificationRow, "status" | "country" | "testMode">): VerificationAttempt {
  return {
    attemptSid: attempt.sid,
    verificationSid: attempt.verificationSid,
    serviceSid: attempt.serviceSid,
    to: attempt.to,
    channel: attempt.channel as AttemptChannel,
    country: verification.country,
    status: attempt.status as DeliveryStatus,
    errorCode: attempt.errorCode,
    converted: verification.status === "APPROVED",
    verificationStatus: verification.status as VerificationStatus,
    testMode: verification.testMode,
    dateCreated: attempt.time,
  };
}

export function toApiKey(row: ApiKeyRow): ApiKey {
  return { sid: row.sid, serviceSid: row.serviceSid, name: row.name, dateCreated: row.dateCreated, revokedAt: row.revokedAt };
}

export function toVerification(row: VerificationRow, attempts: AttemptRow[]): Verification {
  return {
    sid: row.sid,
    serviceSid: row.serviceSid,
    to: row.to,
    channel: row.channel as ChannelName,
    status: row.status as VerificationStatus,
    valid: row.status === "APPROVED",
    lookup: row.lookup ? JSON.parse(row.lookup) : null,
    amount: row.amount,
    payee: row.payee,
    sendCodeAttempts: attempts.map((a) => ({
      attemptSid: a.sid,
      channel: a.channel as AttemptChannel,
      time: a.time,
      status: a.status as DeliveryStatus,
      providerMessageId: a.providerMessageId,
      errorCode: a.errorCode,
    })),
    // The SNA URL is a bearer secret: only the start that made it answers it (the domain adds it there).
    sna: null,
    snaAttemptsErrorCodes: row.snaErrorCodes ? (JSON.parse(row.snaErrorCodes) as number[]) : null,
    dateCreated: row.dateCreated,
    dateUpdated: row.dateUpdated,
    expiresAt: row.expiresAt,
    version: row.version,
  };
}

export type FactorRow = typeof t.factors.$inferSelect;
export type ChallengeRow = typeof t.challenges.$inferSelect;

export function toFactorRecord(row: FactorRow, userHandle: string): FactorRecord {
  return {
    sid: row.sid,
    serviceSid: row.serviceSid,
    entitySid: row.entitySid,
    identity: row.identity,
    factorType: row.factorType as FactorType,
    status: row.status as FactorStatus,
    friendlyName: row.friendlyName,
    dateCreated: row.dateCreated,
    dateUpdated: row.dateUpdated,
    credential:
      row.factorType === "PASSKEY" && row.credentialId && row.publicKey
        ? { credentialId: row.credentialId, publicKey: row.publicKey, counter: row.counter, transports: row.transports ? JSON.parse(row.transports) : [] }
        : null,
    publicKey: row.factorType === "PUSH" ? row.publicKey : null,
    counter: row.counter,
    config: row.config ? JSON.parse(row.config) : null,
    secretSealed: row.secret,
    pendingChallenge: row.pendingChallenge,
    failedAttempts: row.failedAttempts,
    userHandle,
  };
}

export function toChallengeRecord(row: ChallengeRow): ChallengeRecord {
  return {
    sid: row.sid,
    serviceSid: row.serviceSid,
    factorSid: row.factorSid,
    identity: row.identity,
    factorType: row.factorType as FactorType,
    status: row.status as ChallengeStatus,
    details: row.details ? JSON.parse(row.details) : null,
    hiddenDetails: row.hiddenDetails ? JSON.parse(row.hiddenDetails) : null,
    dateCreated: row.dateCreated,
    expiresAt: row.expiresAt,
    dateResponded: row.dateResponded,
    silent: row.silent === 1,
    fallbackVerificationSid: row.fallbackVerificationSid,
    version: row.version,
    webauthnChallenge: row.webauthnChallenge,
    fallback: row.fallback ? JSON.parse(row.fallback) : null,
    failedAttempts: row.failedAttempts,
  };
}

/** What the dispatcher needs to word and send one attempt. */
export function toDeliveryContext(row: VerificationRow, attempt: AttemptRow, service: Service, template: AppliedTemplate | null = null): DeliveryContext {
  return {
    verificationSid: row.sid,
    serviceSid: row.serviceSid,
    status: row.status as VerificationStatus,
    to: row.to,
    channel: attempt.channel as AttemptChannel,
    codeSealed: row.codeSealed,
    amount: row.amount,
    payee: row.payee,
    locale: row.locale,
    customFriendlyName: row.customFriendlyName,
    testMode: row.testMode,
    queuedAt: attempt.time,
    service,
    template,
    options: row.deliveryOptions ? (JSON.parse(row.deliveryOptions) as DeliveryOptions) : {},
  };
}
