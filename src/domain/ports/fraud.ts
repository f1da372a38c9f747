import type { FraudBlock, Page, VerifyEvent } from "../types.js";
import type { PageRequest } from "./page.js";
import type { PrefixCounts } from "../policy/fraud.js";

/** Fraud Guard's reads and blocks. Every write returns its events (the store publishes them after commit). */
export interface FraudStore {
  /** Fraud Guard: the prefix's blocks still in force or ended after `since`, newest end first. */
  fraudBlocks(serviceSid: string, prefix: string, since: number): Promise<FraudBlock[]>;
  /** Fraud Guard: the prefix's traffic (test-mode verifications excluded). */
  prefixTraffic(query: PrefixTrafficQuery): Promise<PrefixCounts>;
  /** Writes a block and its event, unless one is already active for the prefix (then answers that one, no event). */
  recordFraudBlock(block: FraudBlock, data: Record<string, unknown>): Promise<{ block: FraudBlock; event: VerifyEvent | null }>;
  /** Ends a block now (a false positive); null when unknown or out of scope. */
  liftFraudBlock(sid: string, serviceSid: string | null, now: number): Promise<{ block: FraudBlock; event: VerifyEvent | null } | null>;
  listFraudBlocks(serviceSid: string, activeAt: number | null, page: PageRequest): Promise<Page<FraudBlock>>;
}

/** Recent: created after recentStart; matured: recent and created at or before maturedBefore; history: (historyStart, historyEnd]. */
export interface PrefixTrafficQuery {
  serviceSid: string;
  prefix: string;
  recentStart: number;
  maturedBefore: number;
  historyStart: number;
  historyEnd: number;
}
