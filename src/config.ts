import { isAbsolute, resolve } from "node:path";
import { z } from "zod";

const port = z.coerce.number().int().min(0).max(65535);
const flag = z.enum(["true", "false", "1", "0"]).transform((v) => v === "true" || v === "1");

const envSchema = z.object({
  NODE_ENV: z.enum(["development", "production", "test"]).default("development"),
  PORT: port.default(4000),
  HOST: z.string().min(1).default("127.0.0.1"),
  DATA_DIR: z.string().min(1).default("./.verigate"),
  DATABASE_URL: z
    .string()
    .refine((v) => !/^postgres(ql)?:\/\//.test(v), "PostgreSQL is not supported by this build yet; leave DATABASE_URL unset or point it at a SQLite file")
    .optional(),
  VERIGATE_ADMIN_KEY: z.string().min(24, "must be at least 24 characters").optional(),
  VERIGATE_SECRET: z.string().min(32, "must be at least 32 characters").optional(),
  PUBLIC_URL: z.url().optional(),
  LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
  SWEEP_INTERVAL_MS: z.coerce.number().int().min(10).max(3_600_000).default(1000),
  GRAPHIQL: flag.optional(),
});

export interface Config {
  readonly env: "development" | "production" | "test";
  readonly port: number;
  readonly host: string;
  readonly dataDir: string;
  readonly sqliteFile: string;
  readonly adminKey: string | null;
  readonly secret: string | null;
  readonly publicUrl: string | null;
  readonly logLevel: string;
  readonly sweepIntervalMs: number;
  readonly graphiql: boolean;
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
  }
}

/** Reads the whole environment at once and reports every problem together, naming each variable. */
export function loadConfig(env: Record<string, string | undefined>): Config {
  const parsed = envSchema.safeParse(Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== "")));
  if (!parsed.success) {
    throw new ConfigError(parsed.error.issues.map((issue) => `${issue.path.join(".")}: ${issue.message}`));
  }
  const e = parsed.data;
  const dataDir = isAbsolute(e.DATA_DIR) ? e.DATA_DIR : resolve(e.DATA_DIR);
  const sqliteFile = e.DATABASE_URL ? e.DATABASE_URL.replace(/^(sqlite|file):(\/\/)?/, "") : resolve(dataDir, "verigate.db");
  return Object.freeze({
    env: e.NODE_ENV,
    port: e.PORT,
    host: e.HOST,
    dataDir,
    sqliteFile,
    adminKey: e.VERIGATE_ADMIN_KEY ?? null,
    secret: e.VERIGATE_SECRET ?? null,
    publicUrl: e.PUBLIC_URL ?? null,
    logLevel: e.LOG_LEVEL,
    sweepIntervalMs: e.SWEEP_INTERVAL_MS,
    graphiql: e.GRAPHIQL ?? e.NODE_ENV !== "production",
  });
}
