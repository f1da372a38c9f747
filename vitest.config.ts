import { defineConfig } from "vitest/config";

export default defineConfig({
  resolve: {
    // graphql 16 must load once, or "another module or realm" errors appear when a test imports it.
    alias: [{ find: /^graphql$/, replacement: "graphql/index.js" }],
  },
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: "forks",
  },
});
