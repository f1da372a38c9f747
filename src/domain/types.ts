/** Domain records. Dates are epoch milliseconds; the schema layer renders them as ISO 8601. */

/**
 * Channel names are the catalogue's (src/domain/channels.ts): built in SMS, RCS, WHATSAPP, CALL, EMAIL,
 * SNA and AUTO, and whatever else is registered. These aliases say which list a name comes from.
 */
/** A channel a transport carries (the catalogue's deliveryChannels). */
export type DeliveryChannel = string;
/** A channel a client may name (API.md `Channel`, the catalogue's selectableChannels). */
export type ChannelName = string;
/** A channel a send attempt may record (the catalogue's attemptChannels). */
export type AttemptChannel = string;

export const verificationStatuses = ["PENDING", "APPROVED", "CANCELED", "MAX_ATTEMPTS_REACHED", "EXPIRED", "FAILED"] as const;
export type VerificationStatus = (typeof verificationStatuses)[number];
/** A verification counts as converted (the attempts log, statistics, Fraud Guard's conversion rate) once it is APPROVED. */
export const convertedStatus: VerificationStatus = "APPROVED";

export const finalVerificationStatuses: ReadonlySet<VerificationStatus> = new Set(["APPROVED", "CANCELED", "MAX_ATTEMPTS_REACHED", "EXPIRED", "FAILED"]);

export const deliveryStatuses = ["QUEUED", "SENT", "DELIVERED", "UNDELIVERED", "FAILED"] as const;
export type DeliveryStatus = (typeof deliveryStatuses)[number];

export const fraudGuardLevels = ["OFF", "BASIC", "STANDARD", "MAX"] as const;
export type FraudGuardLevel = (typeof fraudGuardLevels)[number];

export interface TestNumber {
  to: string;
  code: string;
}

/** A Twilio-style bucket: at most `max` requests per `interval` seconds. */
export interface RateLimitBucket {
  max: number;
  interval: number;
}

/** A bucket of a programmable rate limit, with the sid Twilio's API names it by (BL…). */
export interface NamedRateLimitBucket extends RateLimitBucket {
  sid: string;
  dateCreated: number;
  dateUpdated: number;
}

/** A programmable rate limit: `startVerification(rateLimits: { <uniqueName>: value })` counts per value. */
export interface NamedRateLimit {
  /** RK…, stable while the limit exists (GraphQL updates that keep the uniqueName keep it). */
  sid: string;
  uniqueName: string;
  description: string | null;
  buckets: NamedRateLimitBucket[];
  dateCreated: number;
  dateUpdated: number;
}

export interface RateLimitSettings {
  /** Starts per recipient. */
  perTo: RateLimitBucket[];
  /** Starts per end-user IP (the `deviceIp` the backend passes). */
  perIp: RateLimitBucket[];
  /** Starts per service, all recipients together. */
  perService: RateLimitBucket[];
  named: NamedRateLimit[];
}

/** A channel whose destinations geo permissions restrict (the catalogue's geoChannels). */
export type GeoChannel = string;

/** Countries (ISO 3166-1 alpha-2) a channel may reach; a channel without an entry reaches every country. */
export interface GeoPermission {
  channel: GeoChannel;
  allowedCountries: string[];
}

export interface ServiceSettings {
  friendlyName: string;
  codeLength: number;
  ttlSeconds: number;
  maxCheckAttempts: number;
  maxSendAttempts: number;
  customCodeEnabled: boolean;
  psd2Enabled: boolean;
  doNotShareWarningEnabled: boolean;
  dtmfInputRequired: boolean;
  lookupEnabled: boolean;
  skipSmsToLandlines: boolean;
  defaultLocale: string;
  channels: ChannelName[];
  fraudGuard: FraudGuardLevel;
  testNumbers: TestNumber[];
  rateLimits: RateLimitSettings;
  geoPermissions: GeoPermission[];
  /** Numbers that skip Fraud Guard and geo permissions (E.164). */
  safeList: string[];
  /** Refuse premium-rate and shared-cost numbers (toll fraud). */
  blockPremiumNumbers: boolean;
  /** The domain named in the SMS's WebOTP line ("@domain #code") so browsers can autofill the code. */
  webOtpDomain: string | null;
  /** The service's WebAuthn relying party; unset fields fall back to WEBAUTHN_RP_ID / WEBAUTHN_ORIGINS / PUBLIC_URL. */
  passkeys: PasskeySettings;
  totp: TotpServiceSettings;
  /** The template (HJ…) a start uses when it names none; null: the built-in texts. */
  defaultTemplateSid: string | null;
  /** Twilio messaging configurations: which messaging service (MG…) sends to a country. */
  messagingConfigurations: MessagingConfiguration[];
}

export interface MessagingConfiguration {
  /** ISO 3166-1 alpha-2, or "all". */
  country: string;
  messagingServiceSid: string;
  dateCreated: number;
  dateUpdated: number;
}

/** TOTP defaults of a service's new factors; a factor may choose its own. */
export interface TotpServiceSettings {
  /** The issuer shown by authenticator apps; null: the service's friendly name. */
  issuer: string | null;
  timeStep: number;
  codeLength: number;
  skew: number;
  algorithm: "SHA1" | "SHA256" | "SHA512";
}

export interface PasskeySettings {
  rpId: string | null;
  rpName: string | null;
  origins: string[];
  authenticatorAttachment: "PLATFORM" | "CROSS_PLATFORM" | "ANY";
  residentKey: "REQUIRED" | "PREFERRED" | "DISCOURAGED";
  userVerification: "REQUIRED" | "PREFERRED" | "DISCOURAGED";
}

export interface Service extends ServiceSettings {
  sid: string;
  dateCreated: number;
  dateUpdated: number;
}

export interface ApiKey {
  sid: string;
  serviceSid: string;
  name: string;
  dateCreated: number;
  revokedAt: number | null;
}

export interface Lookup {
  countryCode: string | null;
  lineType: string | null;
  carrier: string | null;
}

export interface SendAttempt {
  attemptSid: string;
  channel: AttemptChannel;
  time: number;
  status: DeliveryStatus;
  providerMessageId: string | null;
  errorCode: string | null;
}

/** What clients see of a verification; also the payload of every verification event. */
export interface Verification {
  sid: string;
  serviceSid: string;
  to: string;
  channel: ChannelName;
  status: VerificationStatus;
  valid: boolean;
  lookup: Lookup | null;
  amount: string | null;
  payee: string | null;
  sendCodeAttempts: SendAttempt[];
  sna: { url: string } | null;
  /** SNA error codes in the order they happened; null when no SNA attempt was made. */
  snaAttemptsErrorCodes: number[] | null;
  dateCreated: number;
  dateUpdated: number;
  expiresAt: number;
  /** Grows with every change clients can see; subscribers drop anything not newer than what they hold. */
  version: number;
}

export interface VerifyEvent {
  sid: string;
  type: string;
  serviceSid: string;
  resourceSid: string;
  occurredAt: number;
  data: Record<string, unknown>;
}

export interface FraudBlock {
  sid: string;
  serviceSid: string;
  /** The destination prefix: E.164 without its last digits. */
  prefix: string;
  reason: string;
  severity: number;
  level: FraudGuardLevel;
  blockedUntil: number;
  dateCreated: number;
  /** When liftFraudBlock ended it early (a false positive); null for a block that ran its course. */
  liftedAt: number | null;
}

export const webhookDeliveryStatuses = ["PENDING", "DELIVERED", "FAILED", "CANCELED"] as const;
export type WebhookDeliveryStatus = (typeof webhookDeliveryStatuses)[number];

/** What a webhook's requests look like: Standard Webhooks (JSON, `webhook-signature`) or Twilio's (form, `X-Twilio-Signature`). */
export const webhookFormats = ["standard", "twilio"] as const;
export type WebhookFormat = (typeof webhookFormats)[number];

export interface Webhook {
  sid: string;
  serviceSid: string;
  url: string;
  /** A name for people (Twilio's FriendlyName); null when none was given. */
  friendlyName: string | null;
  eventTypes: string[];
  enabled: boolean;
  format: WebhookFormat;
  dateCreated: number;
  dateUpdated: number;
}

export interface WebhookDelivery {
  id: number;
  webhookSid: string;
  serviceSid: string;
  eventSid: string;
  eventType: string;
  status: WebhookDeliveryStatus;
  attempts: number;
  lastStatusCode: number | null;
  lastError: string | null;
  dateCreated: number;
  dateUpdated: number;
  deliveredAt: number | null;
}

/** One send attempt as the attempts log shows it (Twilio's Verification Attempts). */
export interface VerificationAttempt {
  attemptSid: string;
  verificationSid: string;
  serviceSid: string;
  to: string;
  channel: AttemptChannel;
  country: string | null;
  status: DeliveryStatus;
  errorCode: string | null;
  /** The verification was approved. */
  converted: boolean;
  verificationStatus: VerificationStatus;
  testMode: boolean;
  dateCreated: number;
}

export interface ConversionGroup {
  key: string;
  total: number;
  converted: number;
}

export interface VerificationStats {
  total: number;
  converted: number;
  byChannel: ConversionGroup[];
  byCountry: ConversionGroup[];
  attempts: Record<DeliveryStatus, number>;
  /** Verifications with at least one send attempt SENT or DELIVERED (the funnel's middle step). */
  reached: number;
}

/** Conversion of the verifications started in one time bucket: [from, from + bucket). */
export interface ConversionBucket {
  from: number;
  to: number;
  total: number;
  converted: number;
}

export interface OutboxMessage {
  to: string;
  channel: AttemptChannel;
  body: string;
  code: string | null;
  verificationSid: string | null;
  attemptSid: string | null;
  createdAt: number;
}

export interface Page<T> {
  edges: { cursor: string; node: T }[];
  hasNextPage: boolean;
  endCursor: string | null;
}

/** The factor types' strategies (src/domain/factor/types): built in PUSH, TOTP and PASSKEY. */
export type FactorType = string;
export type FactorStatus = "UNVERIFIED" | "VERIFIED";
export type ChallengeStatus = "PENDING" | "APPROVED" | "DENIED" | "EXPIRED";

export interface Entity {
  sid: string;
  serviceSid: string;
  identity: string;
  /** Random, opaque: what an authenticator stores as the user handle (never the identity itself). */
  userHandle: string;
}

export interface Factor {
  sid: string;
  serviceSid: string;
  entitySid: string;
  identity: string;
  factorType: FactorType;
  status: FactorStatus;
  friendlyName: string;
  dateCreated: number;
  dateUpdated: number;
}

/** The stored credential of a passkey factor (not shown to clients). */
export interface PasskeyCredential {
  credentialId: string;
  publicKey: string;
  counter: number;
  transports: string[];
}

export interface ChallengeDetails {
  message: string;
  fields: { label: string; value: string }[];
}

export interface Challenge {
  sid: string;
  serviceSid: string;
  factorSid: string | null;
  identity: string | null;
  factorType: FactorType;
  status: ChallengeStatus;
  details: ChallengeDetails | null;
  hiddenDetails: Record<string, unknown> | null;
  dateCreated: number;
  expiresAt: number;
  dateResponded: number | null;
  /** Answered by a trusted device in the background, without asking the user. */
  silent: boolean;
  /** The OTP verification started when a silent challenge went unanswered. */
  fallbackVerificationSid: string | null;
  version: number;
}

/** Where an unanswered silent challenge falls back to. */
export interface ChallengeFallback {
  /** One of the catalogue's fallbackChannels. */
  channel: DeliveryChannel;
  to: string;
  afterSeconds: number;
}

export type TotpAlgorithm = "SHA1" | "SHA256" | "SHA512";
export interface TotpConfig {
  timeStep: number;
  codeLength: number;
  skew: number;
  algorithm: TotpAlgorithm;
}

export type NotificationPlatform = "WEBPUSH" | "FCM" | "APN" | "NONE";
export interface WebPushSubscription {
  endpoint: string;
  keys: { p256dh: string; auth: string };
}
export interface PushConfig {
  alg: "ES256";
  notificationPlatform: NotificationPlatform;
  notificationToken: string | null;
  webPushSubscription: WebPushSubscription | null;
  silentApproval: boolean;
}

// --- message templates (src/domain/template) ---------------------------------------------------------
export const templateChannels = ["SMS", "WHATSAPP", "CALL", "EMAIL"] as const;
export type TemplateChannel = (typeof templateChannels)[number];

/** The texts of a template: { [locale]: { [channel]: text } } (the `templates.translations` column). */
export type TemplateTexts = Record<string, Partial<Record<TemplateChannel, string>>>;

export interface Template {
  sid: string;
  serviceSid: string;
  friendlyName: string;
  translations: TemplateTexts;
  dateCreated: number;
  dateUpdated: number;
}

/** The template a verification was started with (`verifications.template`). */
export interface TemplateChoice {
  sid: string;
  substitutions: Record<string, string>;
}

/**
 * How one start's messages are sent, beside what they say (Twilio's `SendDigits` and email
 * `ChannelConfiguration`): the digits a call dials once answered (an extension; `w` pauses half a second),
 * an email's From address (at the configured sender's domain only) and display name. Absent: as configured.
 */
export interface DeliveryOptions {
  sendDigits?: string;
  emailFrom?: string;
  emailFromName?: string;
}

/** A verification's template as its messages use it. */
export interface AppliedTemplate {
  template: Template;
  substitutions: Record<string, string>;
}
