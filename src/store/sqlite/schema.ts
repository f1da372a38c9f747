import { index, integer, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";

// Times are epoch milliseconds; JSON columns hold small documents that are read whole.

export const settings = sqliteTable("settings", {
  key: text("key").primaryKey(),
  value: text("value").notNull(),
});

export const services = sqliteTable("services", {
  seq: integer("seq").primaryKey({ autoIncrement: true }),
  sid: text("sid").notNull().unique(),
  friendlyName: text("friendly_name").notNull(),
  codeLength: integer("code_length").notNull(),
  ttlSeconds: integer("ttl_seconds").notNull(),
  maxCheckAttempts: integer("max_check_attempts").notNull(),
  maxSendAttempts: integer("max_send_attempts").notNull(),
  customCodeEnabled: integer("custom_code_enabled", { mode: "boolean" }).notNull(),
  psd2Enabled: integer("psd2_enabled", { mode: "boolean" }).notNull(),
  doNotShareWarningEnabled: integer("do_not_share_warning_enabled", { mode: "boolean" }).notNull(),
  dtmfInputRequired: integer("dtmf_input_required", { mode: "boolean" }).notNull(),
  lookupEnabled: integer("lookup_enabled", { mode: "boolean" }).notNull(),
  skipSmsToLandlines: integer("skip_sms_to_landlines", { mode: "boolean" }).notNull(),
  defaultLocale: text("default_locale").notNull(),
  channels: text("channels").notNull(),
  fraudGuard: text("fraud_guard").notNull(),
  testNumbers: text("test_numbers").notNull(),
  webOtpDomain: text("web_otp_domain"),
  passkeys: text("passkeys"),
  /** TOTP defaults (JSON); null: the built-in ones. */
  totp: text("totp"),
  /** JSON: per-to / per-IP / per-service buckets and programmable limits; null = the defaults. */
  rateLimits: text("rate_limits"),
  geoPermissions: text("geo_permissions"),
  safeList: text("safe_list"),
  /** JSON: Twilio messaging configurations, one per country ({ country, messagingServiceSid, dateCreated, dateUpdated }). */
  messagingConfigurations: text("messaging_configurations"),
  /** The template a start uses when it names none (HJ…). */
  defaultTemplateSid: text("default_template_sid"),
  blockPremiumNumbers: integer("block_premium_numbers", { mode: "boolean" }).notNull().default(true),
  dateCreated: integer("date_created").notNull(),
  dateUpdated: integer("date_updated").notNull(),
});

export const apiKeys = sqliteTable(
  "api_keys",
  {
    seq: integer("seq").primaryKey({ autoIncrement: true }),
    sid: text("sid").notNull().unique(),
    serviceSid: text("service_sid").notNull(),
    name: text("name").notNull(),
    keyHash: text("key_hash").notNull(),
    dateCreated: integer("date_created").notNull(),
    revokedAt: integer("revoked_at"),
  },
  (t) => [uniqueIndex("api_keys_hash").on(t.keyHash), index("api_keys_service").on(t.serviceSid)],
);

export const verifications = sqliteTable(
  "verifications",
  {
    seq: integer("seq").primaryKey({ autoIncrement: true }),
    sid: text("sid").notNull().unique(),
    serviceSid: text("service_sid").notNull(),
    to: text("to").notNull(),
    channel: text("channel").notNull(),
    status: text("status").notNull(),
    codeHash: text("code_hash").notNull(),
    /** The code sealed with AES-GCM so a resend can deliver the same code; cleared at a final state. */
    codeSealed: text("code_sealed"),
    codeLength: integer("code_length").notNull(),
    checkAttempts: integer("check_attempts").notNull().default(0),
    maxCheckAttempts: integer("max_check_attempts").notNull(),
    amount: text("amount"),
    payee: text("payee"),
    locale: text("locale"),
    customFriendlyName: text("custom_friendly_name"),
    /** JSON: the service template chosen at start and its custom substitutions ({ sid, substitutions }); null: the built-in text. */
    template: text("template"),
    /** JSON: how this verification's messages are sent ({ sendDigits } for a call, { emailFrom, emailFromName } for an email); null: as configured. A resend replaces it. */
    deliveryOptions: text("delivery_options"),
    lookup: text("lookup"),
    tags: text("tags"),
    /** The recipient's country (ISO 3166-1 alpha-2) for the attempts log and geo rules; null for email. */
    country: text("country"),
    /** Fraud Guard's destination prefix (E.164 without its last digits); null for email. */
    prefix: text("prefix"),
    /** A service test number: fixed code, delivered into the dev outbox only, outside Fraud Guard's history. */
    testMode: integer("test_mode", { mode: "boolean" }).notNull().default(false),
    /** SNA: the chronological error codes (null = never SNA), the carrier's state. The URL is only handed out, never kept. */
    snaErrorCodes: text("sna_error_codes"),
    snaState: text("sna_state"),
    snaClientTokenRequired: integer("sna_client_token_required", { mode: "boolean" }).notNull().default(false),
    snaClientTokenHash: text("sna_client_token_hash"),
    /** AUTO: an SNA failure or timeout falls back to SMS. */
    autoFallback: integer("auto_fallback", { mode: "boolean" }).notNull().default(false),
    version: integer("version").notNull().default(1),
    dateCreated: integer("date_created").notNull(),
    dateUpdated: integer("date_updated").notNull(),
    expiresAt: integer("expires_at").notNull(),
  },
  (t) => [
    // Latest (and latest pending) verification per recipient: the start and the check by `to` read it.
    index("verifications_to_seq").on(t.serviceSid, t.to, t.seq),
    index("verifications_due").on(t.status, t.expiresAt),
    index("verifications_service").on(t.serviceSid, t.seq),
    // Fraud Guard counts a destination prefix's recent traffic; the attempts log and stats read by time.
    index("verifications_prefix_time").on(t.serviceSid, t.prefix, t.dateCreated),
    index("verifications_service_time").on(t.serviceSid, t.dateCreated),
  ],
);

export const sendAttempts = sqliteTable(
  "send_attempts",
  {
    seq: integer("seq").primaryKey({ autoIncrement: true }),
    sid: text("sid").notNull().unique(),
    verificationSid: text("verification_sid").notNull(),
    serviceSid: text("service_sid").notNull(),
    to: text("to").notNull(),
    channel: text("channel").notNull(),
    status: text("status").notNull(),
    time: integer("time").notNull(),
    providerMessageId: text("provider_message_id"),
    errorCode: text("error_code"),
  },
  (t) => [index("send_attempts_verification").on(t.verificationSid), index("send_attempts_to").on(t.serviceSid, t.to, t.time), index("send_attempts_provider_message").on(t.providerMessageId)],
);

/** One SNA URL: single use, valid until the verification expires. Only the token's hash is kept. */
export const snaSessions = sqliteTable(
  "sna_sessions",
  {
    tokenHash: text("token_hash").primaryKey(),
    verificationSid: text("verification_sid").notNull(),
    attemptSid: text("attempt_sid").notNull(),
    expiresAt: integer("expires_at").notNull(),
    openedAt: integer("opened_at"),
  },
  (t) => [index("sna_sessions_verification").on(t.verificationSid)],
);

/** The durable outbox: every message that leaves the process is a row first (DESIGN.md principle 4). */
export const outbox = sqliteTable(
  "outbox",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    kind: text("kind").notNull(),
    refSid: text("ref_sid").notNull(),
    runAt: integer("run_at").notNull(),
    leaseUntil: integer("lease_until"),
    tries: integer("tries").notNull().default(0),
    lastError: text("last_error"),
    createdAt: integer("created_at").notNull(),
  },
  (t) => [index("outbox_due").on(t.runAt)],
);

export const events = sqliteTable(
  "events",
  {
    seq: integer("seq").primaryKey({ autoIncrement: true }),
    sid: text("sid").notNull().unique(),
    type: text("type").notNull(),
    serviceSid: text("service_sid").notNull(),
    resourceSid: text("resource_sid").notNull(),
    occurredAt: integer("occurred_at").notNull(),
    data: text("data").notNull(),
  },
  (t) => [index("events_service").on(t.serviceSid, t.seq), index("events_resource").on(t.resourceSid)],
);

export const devOutbox = sqliteTable(
  "dev_outbox",
  {
    seq: integer("seq").primaryKey({ autoIncrement: true }),
    to: text("to").notNull(),
    channel: text("channel").notNull(),
    body: text("body").notNull(),
    code: text("code"),
    verificationSid: text("verification_sid"),
    attemptSid: text("attempt_sid"),
    createdAt: integer("created_at").notNull(),
  },
  (t) => [index("dev_outbox_to").on(t.to, t.seq)],
);

/** A user of a service, by the service's opaque identity; its user handle names it to authenticators. */
export const entities = sqliteTable(
  "entities",
  {
    seq: integer("seq").primaryKey({ autoIncrement: true }),
    sid: text("sid").notNull().unique(),
    serviceSid: text("service_sid").notNull(),
    identity: text("identity").notNull(),
    userHandle: text("user_handle").notNull(),
    dateCreated: integer("date_created").notNull(),
  },
  (t) => [uniqueIndex("entities_identity").on(t.serviceSid, t.identity), uniqueIndex("entities_handle").on(t.serviceSid, t.userHandle)],
);

/** A device key or a passkey of an entity. */
export const factors = sqliteTable(
  "factors",
  {
    seq: integer("seq").primaryKey({ autoIncrement: true }),
    sid: text("sid").notNull().unique(),
    serviceSid: text("service_sid").notNull(),
    entitySid: text("entity_sid").notNull(),
    identity: text("identity").notNull(),
    factorType: text("factor_type").notNull(),
    status: text("status").notNull(),
    friendlyName: text("friendly_name").notNull(),
    credentialId: text("credential_id"),
    publicKey: text("public_key"),
    counter: integer("counter").notNull().default(0),
    transports: text("transports"),
    /** The registration challenge while the factor is unverified. */
    pendingChallenge: text("pending_challenge"),
    failedAttempts: integer("failed_attempts").notNull().default(0),
    metadata: text("metadata"),
    /** Per-type settings: TOTP step/digits/skew/algorithm; push notification platform and silent approval. */
    config: text("config"),
    /** A TOTP seed, sealed with AES-256-GCM (never stored or logged in the clear). */
    secret: text("secret"),
    dateCreated: integer("date_created").notNull(),
    dateUpdated: integer("date_updated").notNull(),
  },
  (t) => [index("factors_entity").on(t.serviceSid, t.identity), uniqueIndex("factors_credential").on(t.serviceSid, t.credentialId)],
);

/** One approval asked of a factor (or, username-less, of whichever passkey answers). */
export const challenges = sqliteTable(
  "challenges",
  {
    seq: integer("seq").primaryKey({ autoIncrement: true }),
    sid: text("sid").notNull().unique(),
    serviceSid: text("service_sid").notNull(),
    factorSid: text("factor_sid"),
    identity: text("identity"),
    factorType: text("factor_type").notNull(),
    status: text("status").notNull(),
    details: text("details"),
    hiddenDetails: text("hidden_details"),
    webauthnChallenge: text("webauthn_challenge"),
    failedAttempts: integer("failed_attempts").notNull().default(0),
    version: integer("version").notNull().default(1),
    expiresAt: integer("expires_at").notNull(),
    dateCreated: integer("date_created").notNull(),
    dateUpdated: integer("date_updated").notNull(),
    dateResponded: integer("date_responded"),
    /** 1 when a trusted device may answer without asking the user. */
    silent: integer("silent").notNull().default(0),
    /** Where an unanswered silent challenge falls back to: { channel, to, afterSeconds }. */
    fallback: text("fallback"),
    fallbackVerificationSid: text("fallback_verification_sid"),
  },
  (t) => [index("challenges_factor").on(t.factorSid, t.seq), index("challenges_fallback").on(t.fallbackVerificationSid)],
);

/** rate-limiter-flexible's table (RateLimiterSQLite), owned by our migrations. Keys hold no PII (hashed values). */
export const rateLimits = sqliteTable("rate_limits", {
  key: text("key").primaryKey(),
  points: integer("points").notNull().default(0),
  expire: integer("expire"),
});

/** A Fraud Guard block of a destination prefix; every one is also an event. */
export const fraudBlocks = sqliteTable(
  "fraud_blocks",
  {
    seq: integer("seq").primaryKey({ autoIncrement: true }),
    sid: text("sid").notNull().unique(),
    serviceSid: text("service_sid").notNull(),
    prefix: text("prefix").notNull(),
    reason: text("reason").notNull(),
    severity: integer("severity").notNull(),
    level: text("level").notNull(),
    blockedUntil: integer("blocked_until").notNull(),
    dateCreated: integer("date_created").notNull(),
    liftedAt: integer("lifted_at"),
  },
  (t) => [index("fraud_blocks_prefix").on(t.serviceSid, t.prefix, t.blockedUntil), index("fraud_blocks_service").on(t.serviceSid, t.seq)],
);

/** A service's webhook endpoint; the signing secret is sealed (AES-GCM), shown once at creation. */
export const webhooks = sqliteTable(
  "webhooks",
  {
    seq: integer("seq").primaryKey({ autoIncrement: true }),
    sid: text("sid").notNull().unique(),
    serviceSid: text("service_sid").notNull(),
    url: text("url").notNull(),
    /** A name for people (Twilio's FriendlyName); null when none was given. */
    friendlyName: text("friendly_name"),
    eventTypes: text("event_types").notNull(),
    enabled: integer("enabled", { mode: "boolean" }).notNull(),
    secretSealed: text("secret_sealed").notNull(),
    /** What its requests look like: "standard" (Standard Webhooks, JSON) or "twilio" (Twilio's form and X-Twilio-Signature). */
    format: text("format").notNull().default("standard"),
    dateCreated: integer("date_created").notNull(),
    dateUpdated: integer("date_updated").notNull(),
  },
  (t) => [index("webhooks_service").on(t.serviceSid)],
);

/** One event to one webhook: written with the event, sent by the outbox (kind "webhook", ref = seq). */
export const webhookDeliveries = sqliteTable(
  "webhook_deliveries",
  {
    seq: integer("seq").primaryKey({ autoIncrement: true }),
    webhookSid: text("webhook_sid").notNull(),
    serviceSid: text("service_sid").notNull(),
    eventSid: text("event_sid").notNull(),
    eventType: text("event_type").notNull(),
    status: text("status").notNull(),
    attempts: integer("attempts").notNull().default(0),
    lastStatusCode: integer("last_status_code"),
    lastError: text("last_error"),
    dateCreated: integer("date_created").notNull(),
    dateUpdated: integer("date_updated").notNull(),
    deliveredAt: integer("delivered_at"),
  },
  (t) => [index("webhook_deliveries_webhook").on(t.webhookSid, t.seq)],
);

/** A service's own message texts (Twilio's templates): per channel and locale, with placeholders. */
export const templates = sqliteTable(
  "templates",
  {
    seq: integer("seq").primaryKey({ autoIncrement: true }),
    sid: text("sid").notNull().unique(),
    serviceSid: text("service_sid").notNull(),
    friendlyName: text("friendly_name").notNull(),
    /** JSON: the texts, { [locale]: { [channel]: text } }. */
    translations: text("translations").notNull(),
    dateCreated: integer("date_created").notNull(),
    dateUpdated: integer("date_updated").notNull(),
  },
  (t) => [index("templates_service").on(t.serviceSid)],
);
