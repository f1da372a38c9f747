import { fillPlaceholders } from "drizzle-orm";
import { drizzle, type NodePgDatabase } from "drizzle-orm/node-postgres";
import * as drizzleUtils from "drizzle-orm/utils";
import type pg from "pg";
import type { EventSink } from "../../domain/events.js";
import type { VerifyEvent } from "../../domain/types.js";
import type { Step } from "../../domain/unit.js";
import type { Lock, Op, Pending, Q, Runner, Statement } from "../shared/ops.js";
import type * as t from "./schema.js";

type Db = NodePgDatabase<typeof t>;
type Lockable = { for(strength: "update", config?: { skipLocked?: boolean; of?: unknown }): PromiseLike<unknown[]> };
type Queryable = Pick<pg.PoolClient, "query">;
type Fields = { path: string[]; field: unknown }[];
/** drizzle's own row mapper (public at run time, untyped): rows come back exactly as drizzle maps them. */
const { mapResultRow } = drizzleUtils as unknown as { mapResultRow(fields: Fields, row: unknown[], joins?: Record<string, boolean>): unknown };
/** What drizzle's prepared query holds once built; the runner executes it on its own connection. */
type Built = {
  queryConfig: pg.QueryConfig & { rowMode: "array" };
  rawQueryConfig: pg.QueryConfig;
  params: unknown[];
  /** The parameters of each chained statement (one part for a plain statement). */
  parts: unknown[][];
  fields?: Fields;
  joinsNotNullableMap?: Record<string, boolean>;
};

/** How many times a write unit runs again after PostgreSQL rolled it back as a deadlock victim. */
const RETRIES = 3;
/** deadlock_detected, serialization_failure: the transaction was rolled back whole and may run again. */
const TRANSIENT = new Set(["40P01", "40001"]);
/** Why PostgreSQL rolled a transaction back whole, when it may run again; null for any other error. */
export type RetryReason = "deadlock" | "serialization";
function retryReason(error: unknown): RetryReason | null {
  for (let e = error as { code?: unknown; cause?: unknown } | undefined, depth = 0; e && depth < 4; e = e.cause as typeof e, depth++)
    if (typeof e.code === "string" && TRANSIENT.has(e.code)) return e.code === "40P01" ? "deadlock" : "serialization";
  return null;
}

const LOCK_TEXT = "select pg_advisory_xact_lock(hashtext($1))";
const ADVISORY_LOCK = { name: "advisory_xact_lock", text: LOCK_TEXT };

/**
 * Runs units on PostgreSQL: a write is one transaction (row locks, advisory locks for keys that have no
 * row yet, events published after COMMIT); several instances share the database safely.
 *
 * Hot statements (`statement(...)`) are built by drizzle once per process and run as named prepared
 * statements straight on the connection (node-postgres prepares a name once per connection): no query
 * is rebuilt per call. A unit of a single statement (`solo`) needs no BEGIN/COMMIT.
 */
export class PgRunner implements Runner {
  private readonly built = new Map<string, Built>();
  private readonly chains = new Map<string, Built>();
  private readonly handles = new WeakMap<Queryable, Db>();

  constructor(
    private readonly pool: pg.Pool,
    private readonly db: Db,
    private readonly tables: typeof t,
    private readonly sink: () => EventSink | null,
    /** Hears each rerun: why PostgreSQL rolled the unit back, and which rerun this is (1…). */
    private readonly onRetry: (reason: RetryReason, attempt: number) => void = () => {},
  ) {}

  /**
   * Runs a write unit as one transaction. A deadlock or serialization failure (PostgreSQL chose this
   * transaction as the victim and rolled it back whole) runs the unit again on a fresh transaction, at
   * most `RETRIES` times: units are pure descriptions of their statements, so a rerun is the same unit.
   */
  async write<T>(unit: (q: Q) => Step<T>, solo = false): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.writeOnce(unit, solo);
      } catch (error) {
        const reason = retryReason(error);
        if (attempt >= RETRIES || !reason) throw error;
        this.onRetry(reason, attempt + 1);
      }
    }
  }

  private async writeOnce<T>(unit: (q: Q) => Step<T>, solo: boolean): Promise<T> {
    const events: VerifyEvent[] = [];
    const client = await this.pool.connect();
    let broken: Error | undefined;
    let value: T;
    try {
      if (solo) value = await this.drive(unit(this.q(client)), client, events, null);
      else {
        const tx = { begun: false };
        try {
          value = await this.drive(unit(this.q(client)), client, events, tx);
          if (tx.begun) await client.query("commit");
        } catch (error) {
          if (tx.begun)
            await client.query("rollback").catch((failed: Error) => {
              broken = failed; // the connection is gone: the pool must not hand it out again
            });
          throw error;
        }
      }
    } finally {
      client.release(broken);
    }
    if (events.length > 0) this.sink()?.publish(events);
    return value;
  }

  read<T>(unit: (q: Q) => Step<T>): Promise<T> {
    return this.drive(unit(this.q(this.pool)), this.pool, [], { begun: true });
  }

  /** A drizzle handle on this connection (one per pooled connection) for the queries that are not statements. */
  private q(client: Queryable): Q {
    let db = client === this.pool ? this.db : this.handles.get(client);
    if (!db) {
      db = drizzle(client as pg.PoolClient, { schema: this.tables });
      this.handles.set(client, db);
    }
    return { db, t: this.tables } as unknown as Q;
  }

  /**
   * Drives a unit. `tx`: the unit's transaction, begun with its first statement (null: a solo unit, no
   * transaction). A first `serialize` is sent with the BEGIN as one simple query: one round trip.
   */
  private async drive<T>(step: Step<T>, client: Queryable, events: VerifyEvent[], tx: { begun: boolean } | null): Promise<T> {
    let statements = 0;
    let next = step.next();
    while (!next.done) {
      const op = next.value as Op;
      let answer: unknown;
      if (op.kind !== "published") {
        if (!tx && ++statements > 1) throw new Error("a solo unit ran more than one statement");
        if (tx && !tx.begun) {
          tx.begun = true;
          if (op.kind === "serialize") {
            await client.query(`begin; ${LOCK_TEXT.replace("$1", (client as pg.PoolClient).escapeLiteral(op.key))}`);
            next = step.next(undefined);
            continue;
          }
          await client.query("begin");
        }
      }
      try {
        answer = await this.exec(op, client, events);
      } catch (error) {
        next = step.throw(error);
        continue;
      }
      next = step.next(answer);
    }
    return next.value;
  }

  private async exec(op: Op, client: Queryable, events: VerifyEvent[]): Promise<unknown> {
    switch (op.kind) {
      case "query": {
        const query = op.lock ? (op.query as Lockable).for("update", op.lock) : (op.query as PromiseLike<unknown>);
        return shape(await query, op.mode);
      }
      case "prepared":
        return shape(await this.execute(this.prepared(op.statement, op.lock), [op.params], client), op.mode);
      case "chain":
        return shape(await this.execute(this.chained(op.before, op.statement), [...op.before.map((b) => b.params), op.params], client), op.mode);
      case "pair": {
        const first = this.prepared(op.first.statement);
        const paired = this.paired(op.first.statement, op.second.statement, op.lock);
        const values = [...fillPlaceholders(first.params, op.first.params), ...fillPlaceholders(this.prepared(op.second.statement, op.lock).params, op.second.params)];
        const [row] = (await client.query<unknown[]>(paired.queryConfig, values)).rows;
        if (!row) return [undefined, undefined];
        const k = (first.fields as Fields).length;
        const second = row.slice(k);
        return [mapResultRow(first.fields as Fields, row.slice(0, k)), second.every((v) => v === null) ? undefined : mapResultRow(paired.fields as Fields, second)];
      }
      case "serialize":
        await client.query(ADVISORY_LOCK, [op.key]);
        return undefined;
      case "published":
        events.push(op.event);
        return undefined;
    }
  }

  /** A statement as drizzle builds it, once per process (a locked variant is another text: its own name). */
  private prepared(statement: Statement<unknown>, lock?: Lock): Built {
    const name = lock ? `${statement.name}_locked${lock.skipLocked ? "_skip" : ""}` : statement.name;
    let built = this.built.get(name);
    if (!built) {
      const query = statement.build({ db: this.db, t: this.tables } as unknown as Q) as { for(strength: "update", config?: Lock): unknown; prepare(name: string): unknown };
      built = (lock ? (query.for("update", lock) as typeof query) : query).prepare(name) as Built;
      built.parts = [built.params];
      this.built.set(name, built);
    }
    return built;
  }

  /**
   * Statements chained into one (ops.ts `chain`): `with c0 as (<first>), c1 as (<second>) <last>`, the
   * parameters of each renumbered after the ones before it. Named per distinct chain.
   */
  private chained(before: Pending[], last: Statement<unknown>): Built {
    const key = [...before.map((b) => b.statement.name), last.name].join(" ");
    let built = this.chains.get(key);
    if (!built) {
      const parts = [...before.map((b) => this.prepared(b.statement)), this.prepared(last)];
      let offset = 0;
      const texts = parts.map((part) => {
        const shifted = (part.rawQueryConfig.text as string).replace(/\$(\d+)/g, (_, n: string) => `$${Number(n) + offset}`);
        offset += part.params.length;
        return shifted;
      });
      const text = `with ${texts
        .slice(0, -1)
        .map((t, i) => `c${i} as (${t})`)
        .join(", ")} ${texts[texts.length - 1]}`;
      const name = `chain_${this.chains.size}`;
      const final = parts[parts.length - 1];
      built = {
        queryConfig: { ...final.queryConfig, name, text },
        rawQueryConfig: { ...final.rawQueryConfig, name, text },
        params: [],
        parts: parts.map((part) => part.params),
        fields: final.fields,
        joinsNotNullableMap: final.joinsNotNullableMap,
      };
      this.chains.set(key, built);
    }
    return built;
  }

  /** Two reads as one statement (ops.ts `both`); `fields` are the second's. Named per distinct pair. */
  private paired(first: Statement<unknown>, second: Statement<unknown>, lock?: Lock): Built {
    const key = `${first.name} ${second.name}${lock ? " locked" : ""}${lock?.skipLocked ? " skip" : ""}`;
    let built = this.chains.get(key);
    if (!built) {
      const a = this.prepared(first);
      const b = this.prepared(second, lock);
      const shifted = (b.rawQueryConfig.text as string).replace(/\$(\d+)/g, (_, n: string) => `$${Number(n) + a.params.length}`);
      const text = `select * from (${a.rawQueryConfig.text}) c0 left join lateral (${shifted}) c1 on true`;
      const name = `chain_${this.chains.size}`;
      built = { queryConfig: { ...a.queryConfig, name, text }, rawQueryConfig: { ...a.rawQueryConfig, name, text }, params: [], parts: [], fields: b.fields };
      this.chains.set(key, built);
    }
    return built;
  }

  /** Runs a built statement as a named prepared statement on this connection; rows mapped as drizzle maps them. */
  private async execute(built: Built, params: Record<string, unknown>[], client: Queryable): Promise<unknown[]> {
    const values = built.parts.length === 1 ? fillPlaceholders(built.parts[0], params[0]) : built.parts.flatMap((part, i) => fillPlaceholders(part, params[i]));
    const { fields, joinsNotNullableMap } = built;
    if (!fields) return (await client.query(built.rawQueryConfig, values)).rows;
    const result = await client.query<unknown[]>(built.queryConfig, values);
    return result.rows.map((row) => mapResultRow(fields, row, joinsNotNullableMap));
  }
}

function shape(result: unknown, mode: "all" | "get" | "run"): unknown {
  if (mode === "run") return undefined;
  const rows = Array.isArray(result) ? result : ((result as { rows?: unknown[] }).rows ?? []);
  return mode === "get" ? rows[0] : rows;
}
