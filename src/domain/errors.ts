/**
 * The closed set of domain error codes (API.md). The schema layer turns a VerifyError into a GraphQL
 * error with `extensions.code`, `twilioCode` and, for input errors, `field`; the domain never imports graphql.
 */
export const errorCodes = {
  UNAUTHENTICATED: 20003,
  FORBIDDEN: 20003,
  NOT_FOUND: 20404,
  INVALID_PARAMETER: 60200,
  MAX_SEND_ATTEMPTS_REACHED: 60203,
  MAX_CHECK_ATTEMPTS_REACHED: 60202,
  VERIFICATION_EXPIRED: 20404,
  VERIFICATION_ALREADY_APPROVED: 20404,
  VERIFICATION_CANCELED: 20404,
  RATE_LIMITED: 20429,
  /** Too many open subscriptions on one socket or for one token (limits in the configuration). */
  SUBSCRIPTION_LIMIT: 20429,
  CHANNEL_DISABLED: 60223,
  LANDLINE_NOT_SUPPORTED: 60205,
  GEO_BLOCKED: 60605,
  FRAUD_BLOCKED: 60410,
  FACTOR_NOT_VERIFIED: 60318,
  FACTOR_VERIFICATION_FAILED: 60311,
  TOO_MANY_ATTEMPTS: 60310,
  CHALLENGE_ALREADY_RESPONDED: 60322,
  CHALLENGE_EXPIRED: 60323,
  CHALLENGE_VERIFICATION_FAILED: 60324,
  /** A dependency the request needs (the store) is unreachable; the request may be retried. */
  SERVICE_UNAVAILABLE: 20503,
} as const;

export type ErrorCode = keyof typeof errorCodes;

export interface VerifyErrorDetails {
  field?: string;
  retryAfterSeconds?: number;
  /** Where Twilio uses another number for the same condition (TOO_MANY_ATTEMPTS: 60310 factors, 60308 challenges). */
  twilioCode?: number;
  /** A protection refused the request (metrics: blocks by reason); never shown to clients. */
  blockReason?: "premium_number";
}

export class VerifyError extends Error {
  readonly code: ErrorCode;
  readonly twilioCode: number;
  readonly details: VerifyErrorDetails;

  constructor(code: ErrorCode, message: string, details: VerifyErrorDetails = {}) {
    super(message);
    this.name = "VerifyError";
    this.code = code;
    this.twilioCode = details.twilioCode ?? errorCodes[code];
    this.details = details;
  }
}

export const invalidParameter = (field: string, message: string): VerifyError => new VerifyError("INVALID_PARAMETER", message, { field });

export const notFound = (what: string): VerifyError => new VerifyError("NOT_FOUND", `${what} was not found.`);

/** A factor's entity (its identity) was deleted while the factor was being created: nothing was written. */
export const entityDeleted = (): VerifyError => new VerifyError("NOT_FOUND", "The entity was deleted while this factor was being created; nothing was written. Create the factor again.");
