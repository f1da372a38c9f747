import { mkdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Config } from "../config.js";
import { PgStore } from "./pg/store.js";
import type { Store } from "./port.js";
import { SqliteStore } from "./sqlite/store.js";

const migrations = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "drizzle");

/**
 * The store the configuration names, migrated: embedded SQLite by default, PostgreSQL for postgres://
 * URLs. `onConnectionError` hears PostgreSQL connections lost or refused (the pool reconnects by itself).
 */
export async function openStore(database: Config["database"], onConnectionError?: (error: unknown) => void): Promise<Store> {
  if (database.kind === "pg") return PgStore.open(database.url, join(migrations, "pg"), { searchPath: database.schema ?? undefined, onConnectionError });
  mkdirSync(dirname(database.file), { recursive: true });
  return new SqliteStore(database.file, join(migrations, "sqlite"));
}
