#!/usr/bin/env node
import { writeFileSync } from "node:fs";
import { resolve } from "node:path";
import { buildApp } from "./app.js";
import { type Config, ConfigError, loadConfig } from "./config.js";
import { printedSchema } from "./schema/index.js";
import { openStore } from "./store/open.js";

/** The only place that reads process.env. Commands: serve (default) | migrate | schema | device. */
async function main(command: string): Promise<void> {
  switch (command) {
    case "device": {
      const { deviceCommand } = await import("./client/device/cli.js");
      await deviceCommand(process.argv.slice(3));
      return;
    }
    case "schema": {
      const file = resolve("schema.graphql");
      writeFileSync(file, printedSchema());
      process.stdout.write(`wrote ${file}\n`);
      return;
    }
    case "migrate": {
      const config = loadConfig(process.env);
      await (await openStore(config.database)).close();
      process.stdout.write(`migrated the ${config.database.kind === "pg" ? "PostgreSQL" : "SQLite"} store\n`);
      return;
    }
    case "serve": {
      const config = loadConfig(process.env);
      const app = await buildApp(config);
      await app.start();
      process.stdout.write(banner(app.url, config));
      const shutdown = () => {
        app.stop().then(
          () => process.exit(0),
          () => process.exit(1),
        );
      };
      process.once("SIGINT", shutdown);
      process.once("SIGTERM", shutdown);
      return;
    }
    default:
      throw new Error(`unknown command "${command}"; use serve, migrate, schema or device`);
  }
}

/**
 * The address to open and every page served there. A loopback or wildcard listener is named `localhost`:
 * browsers allow WebAuthn (the /demo page) on a domain name only, and localhost is one.
 */
function banner(listening: string, config: Config): string {
  const url = new URL(listening);
  if (["127.0.0.1", "[::1]", "0.0.0.0", "[::]"].includes(url.hostname)) url.hostname = "localhost";
  const base = url.origin;
  const pages: [string, string][] = [
    ["/graphql", `the API (HTTP, graphql-ws, SSE)${config.graphiql ? "; GraphiQL in a browser" : ""}`],
    ["/v2", "Twilio's Verify v2 REST API (HTTP Basic: account sid + admin key, or SK… + API key)"],
    ...(config.env !== "production" ? [["/demo", "passkey demo page"] as [string, string]] : []),
    ["/health", "the state of the store and Redis"],
    ["/ready", "200 while this instance can serve (for load balancers)"],
    ["/metrics", `Prometheus metrics${config.http.openMetrics ? "" : " (Authorization: Bearer $METRICS_TOKEN)"}`],
  ];
  return `Verigate is listening on ${base}/graphql\n${pages.map(([path, what]) => `  ${base}${path.padEnd(9)} ${what}\n`).join("")}`;
}

main(process.argv[2] ?? "serve").catch((error: unknown) => {
  process.stderr.write(`${error instanceof ConfigError ? error.message : error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});
