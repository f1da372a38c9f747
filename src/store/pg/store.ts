import { drizzle, type NodePgDatabase } from "drizzle-orm/node-postgres";
import { migrate } from "drizzle-orm/node-postgres/migrator";
import pg from "pg";
import { type RateLimiterAbstract, RateLimiterPostgres } from "rate-limiter-flexible";
import type { Store } from "../port.js";
import { ServiceCache, SharedStore } from "../shared/store.js";
import { reportingUnavailable } from "./availability.js";
import { PgRunner, type RetryReason } from "./runner.js";
import * as t from "./schema.js";

type Db = NodePgDatabase<typeof t>;

/** How long another instance's service change may go unseen here when no event tells of it (no Redis). */
const SERVICE_CACHE_MS = 250;

/**
 * The PostgreSQL store, for several gateway instances on one database. Every rule is in ../shared (and
 * the domain), run by runner.ts inside transactions with row locks and advisory locks; what is
 * PostgreSQL's own is here: the pool and its connection-loss listeners, migrations under an advisory
 * lock, the health probe's own connection and the rate limiter's table.
 */
export class PgStore extends SharedStore implements Store {
  protected readonly runner: PgRunner;
  /**
   * Every start reads its service: a copy lives SERVICE_CACHE_MS at most. An update drops it here at
   * once, and on the other instances when its `service.updated` event reaches them over Redis (`heard`,
   * wired by app.ts): without Redis, another instance's change shows within SERVICE_CACHE_MS.
   */
  protected readonly serviceCache = new ServiceCache(SERVICE_CACHE_MS);

  private constructor(
    private readonly pool: pg.Pool,
    db: Db,
    /** One connection of its own for /health and /ready: a pool busy with requests is not a database that is down. */
    private readonly probe: pg.Pool,
    onRetry?: (reason: RetryReason, attempt: number) => void,
  ) {
    super();
    this.runner = new PgRunner(pool, db, t, () => this.sink, onRetry);
  }

  /**
   * `onConnectionError` hears every connection that PostgreSQL dropped or refused (a restart, a
   * `pg_terminate_backend`): the pool and each of its clients get a listener, because an `'error'` event
   * nobody listens to ends the process. Calls that fail that way answer SERVICE_UNAVAILABLE.
   */
  static async open(
    url: string,
    migrationsFolder: string,
    options: { searchPath?: string; poolSize?: number; onConnectionError?: (error: unknown) => void; onRetry?: (reason: RetryReason, attempt: number) => void } = {},
  ): Promise<PgStore> {
    const onConnectionError = options.onConnectionError ?? (() => {});
    const connect = (max: number) => {
      const created = new pg.Pool({
        connectionString: url,
        max,
        // A database that does not answer at all fails the request after 5 s instead of holding it forever.
        connectionTimeoutMillis: 5000,
        keepAlive: true,
        ...(options.searchPath ? { options: `-c search_path=${options.searchPath}` } : {}),
      });
      // An idle client's error reaches the pool; a checked-out client's error reaches only the client.
      created.on("error", onConnectionError);
      created.on("connect", (client) => client.on("error", onConnectionError));
      return created;
    };
    const pool = connect(options.poolSize ?? 10);
    const db = drizzle(pool, { schema: t });
    // One instance migrates at a time; the others wait on the same advisory lock and find nothing to do.
    const client = await pool.connect();
    try {
      await client.query("select pg_advisory_lock(727274)");
      await migrate(drizzle(client, { schema: t }), { migrationsFolder, migrationsSchema: options.searchPath ?? "drizzle" });
    } finally {
      await client.query("select pg_advisory_unlock(727274)").catch(() => {});
      client.release();
    }
    return reportingUnavailable(new PgStore(pool, db, connect(1), options.onRetry), onConnectionError);
  }

  private closed = false;

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all([this.pool.end(), this.probe.end()]);
  }

  async ping(): Promise<void> {
    await this.probe.query("select 1");
  }

  rateLimiter(options: { points: number; duration: number; keyPrefix: string }): RateLimiterAbstract {
    return new RateLimiterPostgres({ ...options, storeClient: this.pool, tableName: "rate_limits", tableCreated: true });
  }
}
