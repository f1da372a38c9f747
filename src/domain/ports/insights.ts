import type { AttemptChannel, ChannelName, ConversionBucket, Page, VerificationAttempt, VerificationStats } from "../types.js";
import type { PageRequest } from "./page.js";

/** The attempts log and conversion statistics. Every write returns its events (the store publishes them after commit). */
export interface InsightStore {
  /** The attempts log: send attempts, newest first. */
  listVerificationAttempts(serviceSid: string, filter: AttemptFilter, page: PageRequest): Promise<Page<VerificationAttempt>>;
  /** Conversion over verifications started in [from, to) (test-mode ones excluded), and their delivery results. */
  verificationStats(serviceSid: string, filter: StatsFilter): Promise<VerificationStats>;
  /** The same verifications' conversion in consecutive buckets of `bucketMs` from `filter.from` (every bucket, empty ones too). */
  verificationStatsOverTime(serviceSid: string, filter: StatsFilter, bucketMs: number): Promise<ConversionBucket[]>;
}

export interface AttemptFilter {
  dateCreatedAfter?: number | null;
  dateCreatedBefore?: number | null;
  channel?: AttemptChannel | null;
  country?: string | null;
  /** Only attempts to this recipient (E.164 or email address), exactly. */
  to?: string | null;
  /** Only attempts of this verification (VE…). */
  verificationSid?: string | null;
  /** true: the verification was approved; false: it was not (yet). */
  converted?: boolean | null;
}

export interface StatsFilter {
  from: number;
  to: number;
  channel?: ChannelName | null;
  country?: string | null;
}
