import { defineConfig } from "vitest/config";

// Every API-level suite runs on the embedded store, and again on PostgreSQL when TEST_PG_URL is set
// (CI sets it): one contract, two stores. Store-independent suites run once.
const pgUrl = process.env.TEST_PG_URL;
if (!pgUrl) {
  if (process.env.CI === "true") throw new Error("CI=true but TEST_PG_URL is not set: the PostgreSQL suites must run in CI");
  console.log("TEST_PG_URL is not set: the PostgreSQL store suites and the scale-out suite are skipped (set TEST_PG_URL=postgres://postgres@127.0.0.1:5432/test)");
}
const storeIndependent = [
  "test/startup.test.ts",
  "test/store-tables.test.ts",
  "test/sqlite-plans.test.ts",
  "test/sqlite-counters.test.ts",
  "test/schema.test.ts",
  "test/domain.test.ts",
  "test/fraud-rules.test.ts",
  "test/dispatcher.test.ts",
  "test/scale-out.test.ts",
  "test/faults.test.ts",
  "test/graphiql-walkthrough.test.ts",
  "test/console/codegen.test.ts",
];

export default defineConfig({
  resolve: {
    // graphql 16 must load once, or "another module or realm" errors appear when a test imports it.
    alias: [{ find: /^graphql$/, replacement: "graphql/index.js" }],
  },
  test: {
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: "forks",
    projects: [
      { extends: true, test: { name: "sqlite", include: ["test/**/*.test.ts"], exclude: ["test/scale-out.test.ts", "test/faults.test.ts"], sequence: { groupOrder: 0 } } },
      ...(pgUrl
        ? [
            { extends: true as const, test: { name: "pg", include: ["test/**/*.test.ts"], exclude: storeIndependent, env: { VERIGATE_TEST_STORE: "pg" }, sequence: { groupOrder: 0 } } },
            // Two gateway processes of its own: it runs after the others, on a quiet machine.
            { extends: true as const, test: { name: "scale-out", include: ["test/scale-out.test.ts"], sequence: { groupOrder: 1 } } },
          ]
        : []),
      // PostgreSQL and Redis processes of its own, stopped and restarted under two gateway processes: last, alone.
      { extends: true, test: { name: "faults", include: ["test/faults.test.ts"], sequence: { groupOrder: 2 } } },
    ],
  },
});
