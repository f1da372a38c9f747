import { closeSync, mkdirSync, openSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Config } from "../config.js";
import type { RetryReason } from "./pg/runner.js";
import { PgStore } from "./pg/store.js";
import type { Store } from "./port.js";
import { SqliteStore } from "./sqlite/store.js";

const migrations = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "drizzle");

/**
 * The store the configuration names, migrated: embedded SQLite by default, PostgreSQL for postgres://
 * URLs. `onConnectionError` hears PostgreSQL connections lost or refused (the pool reconnects by itself);
 * `onRetry`, each write PostgreSQL rolled back as a deadlock or serialization victim and ran again.
 */
export async function openStore(database: Config["database"], onConnectionError?: (error: unknown) => void, onRetry?: (reason: RetryReason, attempt: number) => void): Promise<Store> {
  if (database.kind === "pg") return PgStore.open(database.url, join(migrations, "pg"), { searchPath: database.schema ?? undefined, onConnectionError, onRetry });
  // The database holds code hashes, sealed secrets and keys: owner-only, whatever the umask. SQLite gives
  // its -wal and -shm files the database file's mode, so creating the file first covers all three.
  mkdirSync(dirname(database.file), { recursive: true, mode: 0o700 });
  closeSync(openSync(database.file, "a", 0o600));
  return new SqliteStore(database.file, join(migrations, "sqlite"));
}
