import type Database from "better-sqlite3";
import type { BetterSQLite3Database } from "drizzle-orm/better-sqlite3";
import type { EventSink } from "../../domain/events.js";
import type { VerifyEvent } from "../../domain/types.js";
import type { Step } from "../../domain/unit.js";
import type { Op, Q, Runner, Statement, Tables } from "../shared/ops.js";

type Prepared = { all(p?: unknown): unknown[]; get(p?: unknown): unknown; run(p?: unknown): unknown };

/**
 * Runs units on better-sqlite3. The driver is synchronous, so a unit is driven to its end inside one
 * synchronous callback (an async body would silently not be atomic).
 *
 * Group commit: every write asked for in one turn of the event loop runs in a single SQLite transaction,
 * each inside its own savepoint (a unit that throws undoes only its own changes and rejects only its own
 * caller). Callers are answered, and events published, after the COMMIT, so nothing is acknowledged
 * before it is durable. Under load this turns N commits (each writing every page it touched to the WAL)
 * into one; alone, a write waits for one setImmediate.
 */
export class SqliteRunner implements Runner {
  private readonly q: Q;
  private readonly prepared = new Map<Statement<unknown>, Prepared>();
  private queued: { unit: (q: Q) => Step<unknown>; resolve: (value: never) => void; reject: (error: unknown) => void }[] = [];
  private flushing: NodeJS.Immediate | null = null;

  constructor(
    private readonly sqlite: Database.Database,
    db: BetterSQLite3Database<Tables>,
    t: Tables,
    private readonly sink: () => EventSink | null,
  ) {
    this.q = { db, t };
  }

  write<T>(unit: (q: Q) => Step<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.queued.push({ unit, resolve: resolve as (value: never) => void, reject });
      this.flushing ??= setImmediate(() => this.flush());
    });
  }

  async read<T>(unit: (q: Q) => Step<T>): Promise<T> {
    return this.drive(unit(this.q), []);
  }

  /** Commits what is queued now (also on close). */
  flush(): void {
    if (this.flushing) clearImmediate(this.flushing);
    this.flushing = null;
    const batch = this.queued;
    if (batch.length === 0) return;
    this.queued = [];
    const outcomes: ({ ok: true; value: unknown; events: VerifyEvent[] } | { ok: false; error: unknown })[] = [];
    try {
      this.sqlite
        .transaction(() => {
          for (const item of batch) {
            const events: VerifyEvent[] = [];
            try {
              // Nested: better-sqlite3 runs it in a savepoint of the outer transaction.
              outcomes.push({ ok: true, value: this.sqlite.transaction(() => this.drive(item.unit(this.q), events))(), events });
            } catch (error) {
              outcomes.push({ ok: false, error });
            }
          }
          // IMMEDIATE: the write lock is taken (or waited for, busy_timeout) before the first read, so a
          // second connection (the outbox thread) never makes a unit fail with SQLITE_BUSY mid-way.
        })
        .immediate();
    } catch (error) {
      for (const item of batch) item.reject(error);
      return;
    }
    const published = outcomes.flatMap((outcome) => (outcome.ok ? outcome.events : []));
    if (published.length > 0) this.sink()?.publish(published);
    batch.forEach((item, i) => {
      const outcome = outcomes[i];
      if (outcome.ok) item.resolve(outcome.value as never);
      else item.reject(outcome.error);
    });
  }

  /** The SQL of a shared statement as SQLite runs it (for EXPLAIN QUERY PLAN in a test). */
  statementSql(statement: Statement<unknown>): { sql: string; params: unknown[] } {
    return (statement.build(this.q) as unknown as { toSQL(): { sql: string; params: unknown[] } }).toSQL();
  }

  private statement(statement: Statement<unknown>): Prepared {
    let prepared = this.prepared.get(statement);
    if (!prepared) {
      prepared = (statement.build(this.q) as { prepare(): Prepared }).prepare();
      this.prepared.set(statement, prepared);
    }
    return prepared;
  }

  private drive<T>(step: Step<T>, events: VerifyEvent[]): T {
    let next = step.next();
    while (!next.done) {
      let answer: unknown;
      try {
        answer = this.exec(next.value as Op, events);
      } catch (error) {
        next = step.throw(error);
        continue;
      }
      next = step.next(answer);
    }
    return next.value;
  }

  private exec(op: Op, events: VerifyEvent[]): unknown {
    switch (op.kind) {
      case "query":
        return (op.query as Prepared)[op.mode]();
      case "prepared":
        return this.statement(op.statement)[op.mode](sqliteParams(op.params));
      case "chain":
        for (const { statement, params } of op.before) this.statement(statement).run(sqliteParams(params));
        return this.statement(op.statement)[op.mode](sqliteParams(op.params));
      case "pair":
        return [this.statement(op.first.statement).get(sqliteParams(op.first.params)), this.statement(op.second.statement).get(sqliteParams(op.second.params))];
      case "serialize":
        return undefined; // one writer: units run one after another
      case "published":
        events.push(op.event);
        return undefined;
    }
  }
}

/** better-sqlite3 binds no booleans: they are stored as 0/1 (drizzle's boolean mode reads them back). */
function sqliteParams(params: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(params)) out[key] = typeof value === "boolean" ? Number(value) : value;
  return out;
}
