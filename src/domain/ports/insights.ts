import type { AttemptChannel, ChannelName, Page, VerificationAttempt, VerificationStats } from "../types.js";
import type { PageRequest } from "./page.js";

/** The attempts log and conversion statistics. Every write returns its events (the store publishes them after commit). */
export interface InsightStore {
  /** The attempts log: send attempts, newest first. */
  listVerificationAttempts(serviceSid: string, filter: AttemptFilter, page: PageRequest): Promise<Page<VerificationAttempt>>;
  /** Conversion over verifications started in [from, to) (test-mode ones excluded), and their delivery results. */
  verificationStats(serviceSid: string, filter: StatsFilter): Promise<VerificationStats>;
}

export interface AttemptFilter {
  dateCreatedAfter?: number | null;
  dateCreatedBefore?: number | null;
  channel?: AttemptChannel | null;
  country?: string | null;
  /** true: the verification was approved; false: it was not (yet). */
  converted?: boolean | null;
}

export interface StatsFilter {
  from: number;
  to: number;
  channel?: ChannelName | null;
  country?: string | null;
}
