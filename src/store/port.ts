import type { RateLimiterAbstract } from "rate-limiter-flexible";
import type { EventSink } from "../domain/events.js";
import type { VerifyEvent } from "../domain/types.js";
import type { DomainStore } from "../domain/ports/index.js";

export type * from "../domain/ports/index.js";

/**
 * A store adapter: the domain's ports (src/domain/ports), written once in ./shared, plus what only the
 * composition root asks of a store: its lifecycle, where committed events go, a health probe and a rate
 * limiter on its own table. Adapters: sqlite/ (embedded), pg/ (several instances).
 */
export interface Store extends DomainStore {
  close(): Promise<void>;
  /** Where the events of every committed write go: the store publishes them after commit, once. */
  publishTo(sink: EventSink): void;
  /** Events committed by other instances (over Redis): the store drops what they made stale. */
  heard(events: readonly VerifyEvent[]): void;
  /** Resolves when the store answers a trivial query: /health and /ready ask it. */
  ping(): Promise<void>;
  /** A rate-limiter-flexible limiter on this store's `rate_limits` table (used when Redis is not configured). */
  rateLimiter(options: { points: number; duration: number; keyPrefix: string }): RateLimiterAbstract;
}
