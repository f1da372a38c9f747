import { getTableConfig as pgConfig } from "drizzle-orm/pg-core";
import { getTableConfig as sqliteConfig } from "drizzle-orm/sqlite-core";
import { getTableColumns } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import * as pgTables from "../src/store/pg/schema.js";
import * as sqliteTables from "../src/store/sqlite/schema.js";

// The shared store code (src/store/shared) is written once against the SQLite tables and runs on the
// PostgreSQL twins: every table, column, key and index must match, and each column must read back as the
// same JavaScript type. A column added to one dialect only fails here, before any query does.
type Described = { name: string; columns: Record<string, string>; indexes: string[]; uniques: string[] };

// The JavaScript value each column type reads back as (drizzle's `dataType`), with its nullability and key.
const describeColumns = (columns: { name: string; dataType: string; notNull: boolean; primary: boolean; isUnique: boolean }[]) =>
  Object.fromEntries(columns.map((c) => [c.name, `${c.dataType}${c.notNull ? " not null" : ""}${c.primary ? " primary key" : ""}${c.isUnique ? " unique" : ""}`]));

function describeSqlite(table: Parameters<typeof sqliteConfig>[0]): Described {
  const config = sqliteConfig(table);
  return {
    name: config.name,
    columns: describeColumns(config.columns),
    indexes: config.indexes.map((i) => `${i.config.name}(${i.config.columns.map((c) => (c as { name: string }).name).join(",")})${i.config.unique ? " unique" : ""}`).sort(),
    uniques: config.uniqueConstraints.map((u) => u.columns.map((c) => c.name).join(",")).sort(),
  };
}

function describePg(table: Parameters<typeof pgConfig>[0]): Described {
  const config = pgConfig(table);
  return {
    name: config.name,
    columns: describeColumns(config.columns),
    indexes: config.indexes.map((i) => `${i.config.name}(${i.config.columns.map((c) => (c as { name: string }).name).join(",")})${i.config.unique ? " unique" : ""}`).sort(),
    uniques: config.uniqueConstraints.map((u) => u.columns.map((c) => c.name).join(",")).sort(),
  };
}

const tables = <T extends object>(module: T) => Object.keys(module).sort();
const liteByName: Record<string, unknown> = { ...sqliteTables };
const pgByName: Record<string, unknown> = { ...pgTables };

describe("the two dialects' tables", () => {
  it("name the same tables", () => {
    expect(tables(pgTables)).toEqual(tables(sqliteTables));
  });

  for (const name of tables(sqliteTables)) {
    it(`${name}: same columns (name, value type, null, keys) and indexes`, () => {
      const lite = describeSqlite(liteByName[name] as never);
      const pg = describePg(pgByName[name] as never);
      expect(pg).toEqual(lite);
      // Property names too: the shared code reaches columns by them.
      expect(Object.keys(getTableColumns(pgByName[name] as never)).sort()).toEqual(Object.keys(getTableColumns(liteByName[name] as never)).sort());
    });
  }
});
