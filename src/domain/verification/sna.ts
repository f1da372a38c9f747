/** Twilio's SNA error codes (605xx) that this gateway reports in `snaAttemptsErrorCodes`. */
export const snaErrors = {
  NUMBER_MISMATCH: 60500,
  RESULT_PENDING: 60519,
  CARRIER_NOT_DETECTED: 60531,
  NUMBER_INVALID: 60540,
} as const;

/** What the carrier saw of the request that opened the SNA URL. */
export interface SnaRequest {
  ip: string;
  headers: Record<string, string | string[] | undefined>;
}

export type Identification = { msisdn: string } | { errorCode: number };

/**
 * The port a real SNA aggregator plugs into (src/channels/sna/carrier.ts has the sandbox one): can a
 * device IP do SNA at all (for AUTO), and which number owns the data session that opened the URL.
 */
export interface SnaCarrier {
  readonly name: string;
  covers(deviceIp: string): Promise<boolean>;
  identify(request: SnaRequest): Promise<Identification>;
}
