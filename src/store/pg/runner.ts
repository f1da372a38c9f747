import { sql } from "drizzle-orm";
import type { NodePgDatabase } from "drizzle-orm/node-postgres";
import type { EventSink } from "../../domain/events.js";
import type { VerifyEvent } from "../../domain/types.js";
import type { Step } from "../../domain/unit.js";
import type { Lock, Op, Q, Runner } from "../shared/ops.js";
import type * as t from "./schema.js";

type Db = NodePgDatabase<typeof t>;
type Handle = Pick<Db, "select" | "insert" | "update" | "delete" | "execute">;
type Lockable = { for(strength: "update", config?: { skipLocked?: boolean; of?: unknown }): PromiseLike<unknown[]> };
type Preparable = { prepare(name: string): { execute(params: Record<string, unknown>): Promise<unknown> } };

/**
 * Runs units on PostgreSQL: a write is one transaction (row locks, advisory locks for keys that have no
 * row yet, events published after COMMIT); several instances share the database safely.
 */
export class PgRunner implements Runner {
  constructor(
    private readonly db: Db,
    private readonly tables: typeof t,
    private readonly sink: () => EventSink | null,
  ) {}

  async write<T>(unit: (q: Q) => Step<T>): Promise<T> {
    const events: VerifyEvent[] = [];
    const value = await this.db.transaction((tx) => this.drive(unit(this.q(tx)), tx, events));
    if (events.length > 0) this.sink()?.publish(events);
    return value;
  }

  read<T>(unit: (q: Q) => Step<T>): Promise<T> {
    return this.drive(unit(this.q(this.db)), this.db, []);
  }

  private q(handle: Handle): Q {
    return { db: handle, t: this.tables } as unknown as Q;
  }

  private async drive<T>(step: Step<T>, handle: Handle, events: VerifyEvent[]): Promise<T> {
    let next = step.next();
    while (!next.done) {
      let answer: unknown;
      try {
        answer = await this.exec(next.value as Op, handle, events);
      } catch (error) {
        next = step.throw(error);
        continue;
      }
      next = step.next(answer);
    }
    return next.value;
  }

  private async exec(op: Op, handle: Handle, events: VerifyEvent[]): Promise<unknown> {
    switch (op.kind) {
      case "query": {
        const query = op.lock ? (op.query as Lockable).for("update", op.lock) : (op.query as PromiseLike<unknown>);
        return shape(await query, op.mode);
      }
      case "prepared": {
        const built = op.statement.build(this.q(handle)) as unknown as Preparable & { for(strength: "update", config?: Lock): Preparable };
        // A locked variant is another statement text: it gets its own name.
        const query = op.lock ? built.for("update", op.lock) : built;
        const name = op.lock ? `${op.statement.name}_locked${op.lock.skipLocked ? "_skip" : ""}` : op.statement.name;
        return shape(await query.prepare(name).execute(op.params), op.mode);
      }
      case "serialize":
        await handle.execute(sql`select pg_advisory_xact_lock(hashtext(${op.key}))`);
        return undefined;
      case "published":
        events.push(op.event);
        return undefined;
    }
  }
}

function shape(result: unknown, mode: "all" | "get" | "run"): unknown {
  if (mode === "run") return undefined;
  const rows = Array.isArray(result) ? result : ((result as { rows?: unknown[] }).rows ?? []);
  return mode === "get" ? rows[0] : rows;
}
