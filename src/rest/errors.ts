import { type ErrorCode, VerifyError } from "../domain/errors.js";

/** An error the REST API answers as Twilio does: HTTP status + `{ code, message, more_info, status }`. */
export class RestError extends Error {
  constructor(
    readonly status: number,
    readonly code: number,
    message: string,
  ) {
    super(message);
    this.name = "RestError";
  }
}

/** The HTTP status Twilio answers each domain error with (its error pages list both). */
const statusOf: Record<ErrorCode, number> = {
  UNAUTHENTICATED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  INVALID_PARAMETER: 400,
  MAX_SEND_ATTEMPTS_REACHED: 429,
  MAX_CHECK_ATTEMPTS_REACHED: 429,
  VERIFICATION_EXPIRED: 404,
  VERIFICATION_ALREADY_APPROVED: 404,
  VERIFICATION_CANCELED: 404,
  RATE_LIMITED: 429,
  SUBSCRIPTION_LIMIT: 429,
  CHANNEL_DISABLED: 400,
  LANDLINE_NOT_SUPPORTED: 403,
  GEO_BLOCKED: 403,
  FRAUD_BLOCKED: 403,
  FACTOR_NOT_VERIFIED: 403,
  FACTOR_VERIFICATION_FAILED: 403,
  TOO_MANY_ATTEMPTS: 429,
  CHALLENGE_ALREADY_RESPONDED: 403,
  CHALLENGE_EXPIRED: 403,
  CHALLENGE_VERIFICATION_FAILED: 403,
  SERVICE_UNAVAILABLE: 503,
};

export interface TwilioErrorBody {
  code: number;
  message: string;
  more_info: string;
  status: number;
}

/** Any error as Twilio's body; null for an error nobody expected (answered 500 and logged by the caller). */
export function twilioError(error: unknown): { status: number; body: TwilioErrorBody; headers?: Record<string, string> } | null {
  if (error instanceof RestError) return { status: error.status, body: body(error.status, error.code, error.message) };
  if (error instanceof VerifyError) {
    const status = statusOf[error.code];
    const retry = error.details.retryAfterSeconds;
    return { status, body: body(status, error.twilioCode, error.message), ...(retry ? { headers: { "retry-after": String(retry) } } : {}) };
  }
  return null;
}

export const body = (status: number, code: number, message: string): TwilioErrorBody => ({ code, message, more_info: `https://www.twilio.com/docs/errors/${code}`, status });

/** Twilio's 20404 for a path or a resource that is not there. */
export const restNotFound = (what = "The requested resource") => new RestError(404, 20404, `${what} was not found`);

/** Twilio's 20001/60200 family: a parameter is missing or wrong. */
export const missingParameter = (name: string) => new RestError(400, 20001, `Missing required parameter ${name} in the post body`);
export const invalidRestParameter = (name: string, why: string) => new RestError(400, 60200, `Invalid parameter ${name}: ${why}`);

/** A feature Twilio has and Verigate does not (the README's compatibility table lists each). */
export const unsupported = (what: string) => new RestError(400, 20001, `${what} is not supported by Verigate (see the README's compatibility table).`);
