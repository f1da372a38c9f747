import type { FraudBlock, FraudGuardLevel } from "../types.js";

/** A destination prefix's traffic, counted from our own verifications (test numbers excluded). */
export interface PrefixTraffic {
  /** Verifications started in the window. */
  recent: number;
  recentApproved: number;
  /** Of those, the ones old enough (past the grace period) that a real user would have finished. */
  matured: number;
  maturedApproved: number;
  /** Verifications started in the history period before the window. */
  history: number;
  historyApproved: number;
  /** Blocks of this prefix in the last day: repeat offenders are blocked longer. */
  priorBlocks: number;
}

/** What the store counts; the domain adds priorBlocks from the prefix's blocks. */
export type PrefixCounts = Omit<PrefixTraffic, "priorBlocks">;

export interface FraudVerdict {
  reason: "velocity" | "low_conversion";
  /** 0 for a block at the threshold, +1 per doubling past it, +1 per earlier block today. */
  severity: number;
  durationMs: number;
  detail: string;
}

export const fraudWindows = {
  windowMs: 60 * 60_000,
  graceMs: 2 * 60_000,
  historyMs: 7 * 24 * 60 * 60_000,
  priorBlocksMs: 24 * 60 * 60_000,
};

const MIN_BLOCK_MS = 5 * 60_000;
const MAX_BLOCK_MS = 12 * 60 * 60_000;

/**
 * Per level: how many starts to one prefix within the window look like a burst, how many matured starts
 * make a conversion rate worth judging, and the conversion rate at or below which they look pumped.
 * BASIC is cautious, MAX aggressive (Twilio's levels).
 */
export const fraudThresholds: Record<Exclude<FraudGuardLevel, "OFF">, { burst: number; minMatured: number; maxConversion: number }> = {
  BASIC: { burst: 40, minMatured: 20, maxConversion: 0.1 },
  STANDARD: { burst: 20, minMatured: 10, maxConversion: 0.2 },
  MAX: { burst: 10, minMatured: 5, maxConversion: 0.3 },
};

/** E.164 without its last four digits (a block of 10,000 numbers), keeping the country code and two digits. */
export function destinationPrefix(e164: string, countryCallingCode: string): string {
  return e164.slice(0, Math.max(1 + countryCallingCode.length + 2, e164.length - 4));
}

/**
 * What a prefix's recent blocks mean for the next start: the block in force, if any; how many earlier
 * blocks make it a repeat offender; and where the judged window starts. A lifted block was a false
 * positive: it is no offence, and the traffic it judged is not judged again (the window starts at the
 * lift), so after a lift the next start goes through and the prefix is judged afresh.
 */
export function blockStanding(blocks: readonly FraudBlock[], now: number): { active: FraudBlock | null; priorBlocks: number; recentStart: number } {
  const windowStart = now - fraudWindows.windowMs;
  const active = blocks.find((block) => block.liftedAt === null && block.blockedUntil > now && block.dateCreated <= now) ?? null;
  const priorBlocks = blocks.filter((block) => block.liftedAt === null && block.dateCreated > now - fraudWindows.priorBlocksMs).length;
  const recentStart = Math.max(windowStart, ...blocks.map((block) => block.liftedAt ?? windowStart));
  return { active, priorBlocks, recentStart };
}

/**
 * SMS pumping shows as a burst of sends to one number range that nobody completes. Two signals, each
 * against the prefix's own history:
 * - velocity: the window holds a burst, ten times the prefix's usual rate, and few of it converted;
 * - low conversion: enough matured starts, converting at or below the level's floor and at most half
 *   of what the prefix historically converts.
 * The block grows with severity: 5 minutes at the threshold, doubling per step, at most 12 hours.
 */
export function judgeTraffic(level: FraudGuardLevel, traffic: PrefixTraffic): FraudVerdict | null {
  if (level === "OFF") return null;
  const limits = fraudThresholds[level];
  const windowsInHistory = fraudWindows.historyMs / fraudWindows.windowMs;
  const usual = traffic.history / windowsInHistory;
  const recentConversion = traffic.recent === 0 ? 1 : traffic.recentApproved / traffic.recent;
  const historyConversion = traffic.history >= limits.minMatured ? traffic.historyApproved / traffic.history : null;

  let verdict: { reason: FraudVerdict["reason"]; excess: number; detail: string } | null = null;
  if (traffic.recent >= limits.burst && traffic.recent >= 10 * usual && recentConversion < 0.3) {
    verdict = {
      reason: "velocity",
      excess: traffic.recent / limits.burst,
      detail: `${traffic.recent} starts in ${fraudWindows.windowMs / 60_000} min (usual ${usual.toFixed(2)}), ${traffic.recentApproved} approved`,
    };
  } else if (traffic.matured >= limits.minMatured) {
    const conversion = traffic.maturedApproved / traffic.matured;
    const belowHistory = historyConversion === null || conversion <= historyConversion / 2;
    if (conversion <= limits.maxConversion && belowHistory) {
      verdict = {
        reason: "low_conversion",
        excess: traffic.matured / limits.minMatured,
        detail: `${traffic.maturedApproved} of ${traffic.matured} matured starts approved (${Math.round(conversion * 100)} %)${historyConversion === null ? "" : `, history ${Math.round(historyConversion * 100)} %`}`,
      };
    }
  }
  if (!verdict) return null;
  const severity = Math.floor(Math.log2(Math.max(1, verdict.excess))) + traffic.priorBlocks;
  const durationMs = Math.min(MAX_BLOCK_MS, MIN_BLOCK_MS * 2 ** severity);
  return { reason: verdict.reason, severity, durationMs, detail: verdict.detail };
}

/**
 * Lifting a block (a false positive) ends it now. A block already over is left as it is: null, nothing
 * to write and no event.
 */
export function liftBlock(block: FraudBlock, now: number): FraudBlock | null {
  if (block.blockedUntil <= now) return null;
  return { ...block, blockedUntil: now, liftedAt: now };
}
