import { defineConfig } from "drizzle-kit";

// `npm run db:generate` writes SQL migrations for both stores; they are committed and applied at start.
// DRIZZLE_DIALECT=pg selects the PostgreSQL schema (drizzle/pg); the default is the embedded store.
const pg = process.env.DRIZZLE_DIALECT === "pg";

export default defineConfig(
  pg ? { dialect: "postgresql", schema: "./src/store/pg/schema.ts", out: "./drizzle/pg" } : { dialect: "sqlite", schema: "./src/store/sqlite/schema.ts", out: "./drizzle/sqlite" },
);
