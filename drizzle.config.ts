import { defineConfig } from "drizzle-kit";

// `npm run db:generate` writes SQL migrations for the embedded store; they are committed and applied at start.
export default defineConfig({
  dialect: "sqlite",
  schema: "./src/store/sqlite/schema.ts",
  out: "./drizzle/sqlite",
});
