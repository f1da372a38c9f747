/**
 * The layering rules (README, "Architecture"): arrows point downward only. `npm run lint` runs them in CI.
 *
 *   main/app (composition root)
 *     → server (HTTP, auth, access) → schema (GraphQL resolvers) → domain
 *     → rest (Twilio-compatible REST, beside schema) → domain
 *     → workers (outbox runner, jobs) → domain
 *     → store (adapters implement the domain's ports), providers, channels, realtime → domain
 *   domain → nothing of the above, and no framework (graphql, yoga, drizzle, node:http, database drivers)
 *   client kits (src/client: device kit, webhook verifier) → nothing of the server
 */
const framework = "(^|node_modules/)(graphql|graphql-yoga|@graphql-yoga|@pothos|drizzle-orm|better-sqlite3|pg|ioredis|ws|graphql-ws|nodemailer|smpp|web-push|prom-client)($|/)";

module.exports = {
  forbidden: [
    { name: "no-circular", severity: "error", comment: "No import cycles.", from: {}, to: { circular: true } },
    {
      name: "domain-is-innermost",
      severity: "error",
      comment: "The domain imports nothing from the layers above it, and no framework.",
      from: { path: "^src/domain" },
      to: { path: "^src/(store|schema|server|providers|channels|workers|realtime|client|app\\.ts|main\\.ts|config\\.ts)" },
    },
    {
      name: "domain-has-no-framework",
      severity: "error",
      from: { path: "^src/domain" },
      to: { dependencyTypes: ["npm", "npm-dev", "core"], path: `${framework}|^http$|^node:http$` },
    },
    {
      name: "store-below-api",
      severity: "error",
      comment: "Store adapters implement the domain's ports; they know nothing of GraphQL, HTTP, transports or workers.",
      from: { path: "^src/store" },
      to: { path: "^src/(schema|server|providers|channels|workers|realtime|client|app\\.ts)" },
    },
    {
      name: "plugins-below-api",
      severity: "error",
      comment: "Channels and providers are plug-ins: they see the domain, never the API, the store adapters or the workers.",
      from: { path: "^src/(providers|channels)" },
      to: { path: "^src/(schema|server|store|workers|app\\.ts)" },
    },
    {
      name: "schema-below-server",
      severity: "error",
      comment: "Resolvers call the domain; the HTTP server mounts the schema, not the other way round.",
      from: { path: "^src/schema" },
      to: { path: "^src/(server|store/(sqlite|pg)|workers|app\\.ts)" },
    },
    {
      name: "rest-beside-schema",
      severity: "error",
      comment: "The Twilio-compatible REST API is a second adapter on the domain: it calls the domain, never the GraphQL resolvers, the store adapters or the workers.",
      from: { path: "^src/rest" },
      to: { path: "^src/(schema/(?!context)|store|workers|providers|channels|app\\.ts)" },
    },
    {
      name: "graphql-does-not-import-rest",
      severity: "error",
      from: { path: "^src/(schema|domain)" },
      to: { path: "^src/rest" },
    },
    {
      name: "workers-below-api",
      severity: "error",
      from: { path: "^src/workers" },
      to: { path: "^src/(schema|server|store/(sqlite|pg)|app\\.ts)" },
    },
    {
      name: "client-kits-stand-alone",
      severity: "error",
      comment: "Code that ships to devices and to webhook receivers depends on nothing of the server.",
      from: { path: "^src/client" },
      to: { path: "^src/(?!client)" },
    },
  ],
  options: {
    doNotFollow: { path: "node_modules" },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: "tsconfig.json" },
    enhancedResolveOptions: { exportsFields: ["exports"], conditionNames: ["import", "require", "node", "default"], extensions: [".ts", ".js"] },
  },
};
