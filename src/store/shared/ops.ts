import type { BetterSQLite3Database } from "drizzle-orm/better-sqlite3";
import type { Step } from "../../domain/unit.js";
import type { VerifyEvent } from "../../domain/types.js";
import type * as tables from "../sqlite/schema.js";

/**
 * What the shared store code sees of a database: a drizzle handle and the tables. The code is typed
 * against the SQLite builders; at run time the PostgreSQL store hands in its own handle (a transaction)
 * and its twin tables (same property names and value types: test/store-tables.test.ts keeps them so).
 * Only what truly differs between the dialects is asked of the runner through an operation: row locks,
 * serialisation of one key, and how a transaction is committed.
 */
export type Tables = typeof tables;
export interface Q {
  db: BetterSQLite3Database<Tables>;
  t: Tables;
}

/** Row locks PostgreSQL takes (the embedded store has one writer and needs none). */
export type Lock = { skipLocked?: boolean; of?: unknown };

/** The operations a unit yields; runners (sqlite/runner.ts, pg/runner.ts) carry them out. */
export type Op =
  | { kind: "query"; query: unknown; mode: "all" | "get" | "run"; lock?: Lock }
  | { kind: "prepared"; statement: Statement<unknown>; params: Record<string, unknown>; mode: "all" | "get" | "run"; lock?: Lock }
  | { kind: "chain"; before: Pending[]; statement: Statement<unknown>; params: Record<string, unknown>; mode: "all" | "get" | "run" }
  | { kind: "pair"; first: Pending; second: Pending; lock?: Lock }
  | { kind: "serialize"; key: string }
  | { kind: "published"; event: VerifyEvent };

type Built = { all(...a: never[]): unknown; get(...a: never[]): unknown };
type Rows<B> = B extends { all(...a: never[]): infer R } ? R : never;
type Row<B> = B extends { get(...a: never[]): infer R } ? R : never;

/** All rows of a query built on `q.db`. With `lock`, PostgreSQL locks them (FOR UPDATE). */
export function* all<B extends Built>(query: B, lock?: Lock): Step<Rows<B>> {
  return (yield { kind: "query", query, mode: "all", lock } satisfies Op) as Rows<B>;
}

/** The first row of a query built on `q.db`, or undefined. With `lock`, PostgreSQL locks it (FOR UPDATE). */
export function* get<B extends Built>(query: B, lock?: Lock): Step<Row<B>> {
  return (yield { kind: "query", query, mode: "get", lock } satisfies Op) as Row<B>;
}

/** Runs a statement for its effect. */
export function* run(query: { run(...a: never[]): unknown }): Step<void> {
  yield { kind: "query", query, mode: "run" } satisfies Op;
}

/**
 * Serialises every unit that names this key until it commits (PostgreSQL: a transaction-scoped
 * advisory lock; the embedded store's writes are serial already). For rules over rows that may not
 * exist yet, such as "at most N sends to this recipient".
 */
export function* serialize(key: string): Step<void> {
  yield { kind: "serialize", key } satisfies Op;
}

/** Hands a written event to the runner, which publishes it after the unit's transaction commits. */
export function* published(event: VerifyEvent): Step<void> {
  yield { kind: "published", event } satisfies Op;
}

/**
 * A hot statement, built once per dialect with `sql.placeholder` parameters and prepared (SQLite: a
 * cached better-sqlite3 statement; PostgreSQL: a named prepared statement on each connection).
 */
export class Statement<B> {
  constructor(
    readonly name: string,
    readonly build: (q: Q) => B,
  ) {}

  /** With `lock`, PostgreSQL locks the rows (its own prepared statement, FOR UPDATE). */
  *all(params: Record<string, unknown>, lock?: Lock): Step<Rows<B>> {
    return (yield { kind: "prepared", statement: this, params, mode: "all", lock } satisfies Op) as Rows<B>;
  }

  /** With `lock`, PostgreSQL locks the row (its own prepared statement, FOR UPDATE). */
  *get(params: Record<string, unknown>, lock?: Lock): Step<Row<B>> {
    return (yield { kind: "prepared", statement: this, params, mode: "get", lock } satisfies Op) as Row<B>;
  }

  *run(params: Record<string, unknown>): Step<void> {
    yield { kind: "prepared", statement: this, params, mode: "run" } satisfies Op;
  }
}

/** A statement with its parameters, to run for its effect ahead of another (see `chain`). */
export type Pending = { statement: Statement<unknown>; params: Record<string, unknown> };

/**
 * Runs `before` for their effect, then the last statement, whose rows answer. PostgreSQL sends them as
 * ONE statement (each earlier one a data-modifying CTE: one round trip); SQLite runs them one after
 * another. The statements run as one on PostgreSQL, so none may depend on another's write (they share
 * one snapshot): they write different rows, and the last one reads none of them.
 */
export function* chain<B>(before: Pending[], last: Statement<B>, params: Record<string, unknown>, mode: "all" | "run" = "all"): Step<Rows<B>> {
  if (before.length === 0) return (yield { kind: "prepared", statement: last as Statement<unknown>, params, mode } satisfies Op) as Rows<B>;
  return (yield { kind: "chain", before, statement: last as Statement<unknown>, params, mode } satisfies Op) as Rows<B>;
}

/**
 * The first row of two reads at once (either may be undefined). PostgreSQL sends them as ONE statement
 * (`select * from (<first>) left join lateral (<second>) on true`: one round trip); SQLite runs one after
 * the other. `first` must answer exactly one row (an aggregate); `lock` locks the second's row.
 */
export function* both<A, B>(
  first: Statement<A>,
  firstParams: Record<string, unknown>,
  second: Statement<B>,
  secondParams: Record<string, unknown>,
  lock?: Lock,
): Step<[Row<A> | undefined, Row<B> | undefined]> {
  const op: Op = { kind: "pair", first: { statement: first as Statement<unknown>, params: firstParams }, second: { statement: second as Statement<unknown>, params: secondParams }, lock };
  return (yield op) as [Row<A> | undefined, Row<B> | undefined];
}

export const statement = <B extends Built>(name: string, build: (q: Q) => B) => new Statement<B>(name, build);

/**
 * How a store runs units: writes in a transaction (events published after commit), reads as they come.
 * A `solo` write runs exactly one statement (atomic by itself): PostgreSQL sends it without BEGIN/COMMIT.
 */
export interface Runner {
  write<T>(unit: (q: Q) => Step<T>, solo?: boolean): Promise<T>;
  read<T>(unit: (q: Q) => Step<T>): Promise<T>;
}

/**
 * A subquery whose rows PostgreSQL locks as the outer statement reads them (`UPDATE … WHERE id IN
 * (SELECT … FOR UPDATE SKIP LOCKED)`): one statement in both dialects. SQLite has one writer and no FOR
 * clause; there the subquery is used as it is.
 */
export function lockedRows<B>(query: B, lock: Lock): B {
  const lockable = query as { for?: (strength: "update", config: Lock) => B };
  return typeof lockable.for === "function" ? lockable.for("update", lock) : query;
}
