import Database from "better-sqlite3";
import { type BetterSQLite3Database, drizzle } from "drizzle-orm/better-sqlite3";
import { migrate } from "drizzle-orm/better-sqlite3/migrator";
import type { RateLimiterAbstract } from "rate-limiter-flexible";
import type { Store } from "../port.js";
import { deliveryStatements } from "../shared/deliveries.js";
import { blocksOfPrefix, trafficOfPrefix } from "../shared/fraud.js";
import type { Statement } from "../shared/ops.js";
import { outboxStatements } from "../shared/outbox.js";
import { recordStatements } from "../shared/record.js";
import { serviceBySid } from "../shared/services.js";
import { ServiceCache, SharedStore } from "../shared/store.js";
import { verificationStatements } from "../shared/verifications.js";
import { SqliteCounters, SqliteLimiter } from "./limiter.js";
import { SqliteRunner } from "./runner.js";
import * as t from "./schema.js";

/**
 * The embedded store: one process, one file. Every rule is in ../shared (and the domain); what is
 * SQLite's own is here and in runner.ts: the connection's pragmas, the group commit, the service cache
 * (this process is the only writer), the rate-limit counters (in memory, written in the group commit) and the plans test's view of the hot
 * statements.
 */
export class SqliteStore extends SharedStore implements Store {
  private readonly sqlite: Database.Database;
  private readonly db: BetterSQLite3Database<typeof t>;
  protected readonly runner: SqliteRunner;
  private counters: SqliteCounters | undefined;
  // One writer (this process): a service read once stays true until updateService, which drops it.
  protected readonly serviceCache = new ServiceCache(Number.POSITIVE_INFINITY);

  constructor(file: string, migrationsFolder: string) {
    super();
    this.sqlite = new Database(file);
    this.sqlite.pragma("journal_mode = WAL");
    this.sqlite.pragma("synchronous = NORMAL");
    this.sqlite.pragma("busy_timeout = 5000");
    this.db = drizzle(this.sqlite, { schema: t });
    migrate(this.db, { migrationsFolder });
    this.runner = new SqliteRunner(this.sqlite, this.db, t, () => this.sink);
  }

  async close(): Promise<void> {
    this.runner.flush();
    this.sqlite.close();
  }

  async ping(): Promise<void> {
    this.sqlite.prepare("select 1").get();
  }

  rateLimiter(options: { points: number; duration: number; keyPrefix: string }): RateLimiterAbstract {
    // Every limiter shares the counters (and their table); a consume is a Map update, written in the group commit.
    this.counters ??= new SqliteCounters(this.sqlite, this.runner);
    return new SqliteLimiter({ ...options, storeClient: this.sqlite }, this.counters);
  }

  /**
   * EXPLAIN QUERY PLAN of the statements every start, check and delivery runs. The planner has no
   * statistics here, so a plan can quietly become a scan that grows with the table; a test keeps them
   * on their indexes.
   */
  hotPathPlans(): Record<string, string[]> {
    const statements: Record<string, Statement<unknown>> = {
      ...verificationStatements,
      serviceBySid,
      ...deliveryStatements,
      ...outboxStatements,
      ...recordStatements,
      blocksOfPrefix,
      trafficOfPrefix,
    };
    return Object.fromEntries(
      Object.entries(statements).map(([name, statement]) => {
        const { sql: text, params } = this.runner.statementSql(statement);
        const rows = this.sqlite.prepare(`explain query plan ${text}`).all(...params.map(() => 1)) as { detail: string }[];
        return [name, rows.map((r) => r.detail)];
      }),
    );
  }
}
