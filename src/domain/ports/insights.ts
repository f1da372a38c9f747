import type { AttemptChannel, ChannelName, ConversionBucket, Page, VerificationAttempt, VerificationStats } from "../types.js";
import type { PageRequest } from "./page.js";

/** The attempts log and conversion statistics. Every write returns its events (the store publishes them after commit). */
export interface InsightStore {
  /** The attempts log: send attempts, newest first; of one service, or of every service (null). */
  listVerificationAttempts(serviceSid: string | null, filter: AttemptFilter, page: PageRequest): Promise<Page<VerificationAttempt>>;
  /** One send attempt of the log (VL…). */
  getVerificationAttempt(sid: string): Promise<VerificationAttempt | null>;
  /** How many attempts match, and how many of those converted; of one service, or of every service (null). */
  verificationAttemptsSummary(serviceSid: string | null, filter: AttemptFilter): Promise<AttemptsSummary>;
  /** Conversion over verifications started in [from, to) (test-mode ones excluded), and their delivery results. */
  verificationStats(serviceSid: string, filter: StatsFilter): Promise<VerificationStats>;
  /** The same verifications' conversion in consecutive buckets of `bucketMs` from `filter.from` (every bucket, empty ones too). */
  verificationStatsOverTime(serviceSid: string, filter: StatsFilter, bucketMs: number): Promise<ConversionBucket[]>;
}

export interface AttemptFilter {
  dateCreatedAfter?: number | null;
  dateCreatedBefore?: number | null;
  /** Only attempts on one of these channels. */
  channels?: readonly AttemptChannel[] | null;
  country?: string | null;
  /** true: the verification was approved; false: it was not (yet). */
  converted?: boolean | null;
  /** Only attempts to this recipient. */
  to?: string | null;
  /** Only attempts whose recipient starts with this (a phone number prefix: digits and `+` only). */
  toPrefix?: string | null;
  /** Only the attempts of this verification. */
  verificationSid?: string | null;
}

export interface AttemptsSummary {
  total: number;
  converted: number;
}

export interface StatsFilter {
  from: number;
  to: number;
  channel?: ChannelName | null;
  country?: string | null;
}
