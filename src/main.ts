#!/usr/bin/env node
import { writeFileSync } from "node:fs";
import { resolve } from "node:path";
import { buildApp } from "./app.js";
import { ConfigError, loadConfig } from "./config.js";
import { printedSchema } from "./schema/index.js";
import { openStore } from "./store/open.js";

/** The only place that reads process.env. Commands: serve (default) | migrate | schema | device. */
async function main(command: string): Promise<void> {
  switch (command) {
    case "device": {
      const { deviceCommand } = await import("./device/cli.js");
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
      process.stdout.write(`Verigate is listening on ${app.url}/graphql${config.graphiql ? " (GraphiQL in a browser)" : ""}\n`);
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

main(process.argv[2] ?? "serve").catch((error: unknown) => {
  process.stderr.write(`${error instanceof ConfigError ? error.message : error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});
