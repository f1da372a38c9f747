import type Database from "better-sqlite3";
import { sql } from "drizzle-orm";
import { RateLimiterSQLite } from "rate-limiter-flexible";
import type { Runner } from "../shared/ops.js";
import { statement } from "../shared/ops.js";

const p = sql.placeholder;

/** A counter as rate-limiter-flexible keeps it: points consumed, and when they expire (ms; null: never). */
type Counter = { points: number; expire: number | null };

const putCounter = statement("rate_limit_put", ({ db, t }) =>
  db
    .insert(t.rateLimits)
    .values({ key: p("key"), points: p("points"), expire: p("expire") })
    .onConflictDoUpdate({ target: t.rateLimits.key, set: { points: sql`excluded.points`, expire: sql`excluded.expire` } }),
);
const deleteCounter = statement("rate_limit_delete", ({ db, t }) => db.delete(t.rateLimits).where(sql`${t.rateLimits.key} = ${p("key")}`));

/** Expired counters are dropped from memory every this many updates (the table keeps them, as before). */
const SWEEP_EVERY = 4096;
/** Past this many counters in memory the oldest written ones are dropped too: a miss reads the table. */
const MAX_LIVE = 200_000;

/**
 * The embedded store's rate-limit counters. This process is the only writer of the file, so a counter
 * read once from `rate_limits` stays true in memory: a consume is a Map update, and the counters changed
 * in one turn of the event loop are written in that turn's group commit (one unit, prepared statements),
 * the same commit as the start they counted, which is answered only after it. Counters so hold across
 * restarts (close flushes the last group commit) without a transaction, or a statement compiled, per call.
 */
export class SqliteCounters {
  private readonly live = new Map<string, Counter>();
  /** Changed since the last write: the value to write, or null to delete the row. */
  private dirty = new Map<string, Counter | null>();
  private writing = false;
  private updates = 0;
  private readonly load: Database.Statement<[string], Counter>;
  /**
   * Every counter in force is in memory (all were read at start, none dropped for room since): a key
   * not in memory has no counter, or an expired one, which counts as none. Otherwise a miss reads the table.
   */
  private complete: boolean;

  constructor(
    sqlite: Database.Database,
    private readonly runner: Runner,
    private readonly maxLive = MAX_LIVE,
  ) {
    this.load = sqlite.prepare<[string], Counter>("select points, expire from rate_limits where key = ?");
    const inForce = sqlite.prepare<[number, number], Counter & { key: string }>("select key, points, expire from rate_limits where expire is null or expire > ? limit ?").all(Date.now(), maxLive + 1);
    this.complete = inForce.length <= maxLive;
    if (this.complete) for (const { key, points, expire } of inForce) this.live.set(key, { points, expire });
  }

  /** rate-limiter-flexible's upsert (RateLimiterSQLite's statement, same answers), on the counter in memory. */
  upsert(key: string, points: number, msDuration: number, forceExpire: boolean): Counter {
    const now = Date.now();
    const newExpire = msDuration > 0 ? now + msDuration : null;
    const current = forceExpire ? undefined : this.counter(key);
    const next: Counter = current && (current.expire === null || current.expire > now) ? { points: current.points + points, expire: current.expire } : { points, expire: newExpire };
    this.live.set(key, next);
    this.changed(key, next);
    if (++this.updates % SWEEP_EVERY === 0) this.sweep(now);
    return { ...next };
  }

  /** The counter in force, or null when there is none or it expired. */
  get(key: string): Counter | null {
    const current = this.counter(key);
    return current && (current.expire === null || current.expire > Date.now()) ? { ...current } : null;
  }

  delete(key: string): boolean {
    const existed = this.counter(key) !== undefined;
    this.live.delete(key);
    this.changed(key, null);
    return existed;
  }

  private counter(key: string): Counter | undefined {
    let current = this.live.get(key);
    // Complete: a miss is no counter. A deletion not yet committed: the row is still in the table, but
    // the counter is gone.
    if (current === undefined && !this.complete && this.dirty.get(key) !== null) {
      current = this.load.get(key);
      if (current) this.live.set(key, current);
    }
    return current;
  }

  private changed(key: string, value: Counter | null): void {
    this.dirty.set(key, value);
    if (this.writing) return;
    this.writing = true;
    // Queued now, so it joins the group commit of the write that follows in this turn (the start's).
    this.runner
      .write(
        function* (this: SqliteCounters) {
          const batch = this.dirty;
          this.dirty = new Map();
          this.writing = false;
          for (const [key, counter] of batch) {
            if (counter) yield* putCounter.run({ key, points: counter.points, expire: counter.expire });
            else yield* deleteCounter.run({ key });
          }
        }.bind(this),
      )
      .catch(() => {
        // The disk refused the commit: memory still counts, and the next change writes every counter again.
        for (const [key, counter] of this.live) if (!this.dirty.has(key)) this.dirty.set(key, counter);
      });
  }

  private sweep(now: number): void {
    for (const [key, counter] of this.live) {
      if (counter.expire !== null && counter.expire <= now && !this.dirty.has(key)) this.live.delete(key);
    }
    // Oldest first (a Map keeps insertion order); a counter not waiting for its write is in the table.
    for (const key of this.live.keys()) {
      if (this.live.size <= this.maxLive) break;
      if (this.dirty.has(key)) continue;
      this.live.delete(key);
      this.complete = false;
    }
  }
}

/** RateLimiterSQLite whose storage calls go to the counters in memory (points, duration and blocks unchanged). */
export class SqliteLimiter extends RateLimiterSQLite {
  constructor(
    options: { points: number; duration: number; keyPrefix: string; storeClient: Database.Database },
    private readonly counters: SqliteCounters,
  ) {
    super({ ...options, storeType: "better-sqlite3", tableName: "rate_limits", tableCreated: true });
  }

  _upsert(key: string, points: number, msDuration: number, forceExpire = false): Promise<Counter> {
    return Promise.resolve(this.counters.upsert(key, points, msDuration, forceExpire));
  }

  _get(key: string): Promise<Counter | null> {
    return Promise.resolve(this.counters.get(key));
  }

  _delete(key: string): Promise<boolean> {
    return Promise.resolve(this.counters.delete(key));
  }
}
