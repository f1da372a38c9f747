import { isAbsolute, resolve } from "node:path";
import { z } from "zod";
import { transportEnv, transportProblems } from "./providers/plugins.js";
import type { TransportEnv } from "./providers/provider.js";

const port = z.coerce.number().int().min(0).max(65535);
const flag = z.enum(["true", "false", "1", "0"]).transform((v) => v === "true" || v === "1");

const envSchema = z.object({
  NODE_ENV: z.enum(["development", "production", "test"]).default("development"),
  PORT: port.default(4000),
  HOST: z.string().min(1).default("127.0.0.1"),
  DATA_DIR: z.string().min(1).default("./.verigate"),
  DATABASE_URL: z.string().min(1).optional(),
  DATABASE_SCHEMA: z
    .string()
    .regex(/^[a-z_][a-z0-9_]{0,62}$/, "must be a plain PostgreSQL schema name")
    .optional(),
  REDIS_URL: z
    .string()
    .regex(/^rediss?:\/\//, "must be redis://host:port or rediss://…")
    .optional(),
  VERIGATE_ADMIN_KEY: z.string().min(24, "must be at least 24 characters").optional(),
  VERIGATE_ACCOUNT_SID: z
    .string()
    .regex(/^AC[0-9a-f]{32}$/, "must be AC followed by 32 lowercase hex digits")
    .optional(),
  VERIGATE_SECRET: z.string().min(32, "must be at least 32 characters").optional(),
  PUBLIC_URL: z.url().optional(),
  WEBAUTHN_RP_ID: z
    .string()
    .regex(/^(localhost|([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63})$/, "must be a domain name such as example.com")
    .optional(),
  WEBAUTHN_ORIGINS: z.string().optional(),
  // Push factors (README "Push approval"): Web Push's VAPID keys; generated once into the store when absent.
  VAPID_PUBLIC_KEY: z
    .string()
    .regex(/^[A-Za-z0-9_-]{80,90}$/, "must be the base64url P-256 public key web-push generates")
    .optional(),
  VAPID_PRIVATE_KEY: z
    .string()
    .regex(/^[A-Za-z0-9_-]{40,46}$/, "must be the base64url P-256 private key web-push generates")
    .optional(),
  VAPID_SUBJECT: z
    .string()
    .regex(/^(mailto:\S+@\S+|https:\/\/\S+)$/, "must be a mailto: address or an https: URL")
    .default("mailto:verigate@localhost"),
  PUSH_TLS_CA_FILE: z.string().min(1).optional(),
  FCM_SERVICE_ACCOUNT: z.string().min(1).optional(),
  FCM_API_URL: z.url().default("https://fcm.googleapis.com"),
  APNS_KEY_FILE: z.string().min(1).optional(),
  APNS_KEY_ID: z
    .string()
    .regex(/^[A-Z0-9]{10}$/, "must be the 10-character key id Apple shows")
    .optional(),
  APNS_TEAM_ID: z
    .string()
    .regex(/^[A-Z0-9]{10}$/, "must be the 10-character team id")
    .optional(),
  APNS_TOPIC: z.string().min(1).optional(),
  APNS_URL: z.url().default("https://api.push.apple.com"),
  LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
  SWEEP_INTERVAL_MS: z.coerce.number().int().min(10).max(3_600_000).default(1000),
  GRAPHIQL: flag.optional(),
  // Transports (README "Delivery") declare their own variables (src/providers/*/index.ts); each channel
  // without one delivers into the dev outbox.
  RCS_CAPABLE_NUMBERS: z.string().optional(),
  WHATSAPP_FALLBACK_SMS: flag.default(true),
  SNA_SANDBOX_RULES: z.string().optional(),
  SNA_SANDBOX_COVERAGE: z.string().optional(),
  SNA_FALLBACK_SECONDS: z.coerce.number().int().min(1).max(600).default(30),
  LOOKUP_URL: z.url().optional(),
  LOOKUP_TIMEOUT_MS: z.coerce.number().int().min(50).max(30_000).default(1500),
  WEBHOOK_MAX_TRIES: z.coerce.number().int().min(1).max(30).default(10),
  // Webhooks to loopback, private and link-local addresses: refused in production unless allowed (SSRF).
  WEBHOOK_PRIVATE_NETWORKS: z.enum(["allow", "deny"]).optional(),
  // Web Push endpoints a device may enrol: a comma list of hosts (`*.` for subdomains), `*` for any.
  WEB_PUSH_HOSTS: z.string().optional(),
  OUTBOX_LEASE_MS: z.coerce.number().int().min(100).max(3_600_000).default(30_000),
  OUTBOX_MAX_TRIES: z.coerce.number().int().min(1).max(50).default(5),
  // Where this instance runs the outbox: on the request thread (inline), in a worker thread with its
  // own store connection (thread), or not at all (off: another instance delivers).
  OUTBOX_RUNNER: z.enum(["inline", "thread", "off"]).default("inline"),
  PROVIDER_TIMEOUT_MS: z.coerce.number().int().min(100).max(120_000).default(10_000),
  // The HTTP server (README "Configuration"): bounded bodies, deliberate timeouts, a connection cap.
  MAX_BODY_BYTES: z.coerce
    .number()
    .int()
    .min(1024)
    .max(64 * 1024 * 1024)
    .default(256 * 1024),
  HTTP_HEADERS_TIMEOUT_MS: z.coerce.number().int().min(100).max(600_000).default(10_000),
  HTTP_REQUEST_TIMEOUT_MS: z.coerce.number().int().min(100).max(3_600_000).default(30_000),
  HTTP_KEEP_ALIVE_TIMEOUT_MS: z.coerce.number().int().min(100).max(600_000).default(5_000),
  MAX_CONNECTIONS: z.coerce.number().int().min(1).max(1_000_000).default(10_000),
  // Production mode (README "Production"): what a browser and an anonymous caller may see.
  CORS_ORIGINS: z.string().optional(),
  GRAPHQL_INTROSPECTION: flag.optional(),
  FAST_PATH: flag.optional(),
  METRICS_TOKEN: z.string().min(24, "must be at least 24 characters").optional(),
  // Subscriptions (README "Configuration"): each open stream holds memory until its client leaves.
  MAX_SUBSCRIPTIONS_PER_SOCKET: z.coerce.number().int().min(1).max(100_000).default(100),
  MAX_SUBSCRIPTIONS_PER_TOKEN: z.coerce.number().int().min(1).max(1_000_000).default(1000),
  MAX_SOCKETS_PER_ADDRESS: z.coerce.number().int().min(1).max(100_000).default(50),
});

type Env = z.output<typeof envSchema>;

/** Settings that only make sense together are checked together, naming the missing variable. */
function pairs(e: Env): string[] {
  const problems: string[] = transportProblems(e as TransportEnv);
  const need = (when: unknown, name: keyof Env, because: string) => {
    if (when && !e[name]) problems.push(`${name}: required with ${because}`);
  };
  need(e.VAPID_PUBLIC_KEY, "VAPID_PRIVATE_KEY", "VAPID_PUBLIC_KEY");
  for (const name of ["APNS_KEY_ID", "APNS_TEAM_ID", "APNS_TOPIC"] as const) need(e.APNS_KEY_FILE, name, "APNS_KEY_FILE");
  need(e.VAPID_PRIVATE_KEY, "VAPID_PUBLIC_KEY", "VAPID_PRIVATE_KEY");
  for (const n of (e.RCS_CAPABLE_NUMBERS ?? "").split(",").filter((s) => s.trim())) {
    if (!/^\+\d{6,15}$/.test(n.trim())) problems.push(`RCS_CAPABLE_NUMBERS: "${n.trim()}" is not an E.164 number`);
  }
  for (const rule of list(e.SNA_SANDBOX_RULES)) {
    if (!/^[0-9a-fA-F.:]+(\/\d{1,3})?=\+\d{6,15}$/.test(rule)) problems.push(`SNA_SANDBOX_RULES: "${rule}" is not of the form CIDR=+E164`);
  }
  for (const origin of list(e.WEBAUTHN_ORIGINS)) {
    if (!/^https?:\/\/[^/\s]+$/.test(origin)) problems.push(`WEBAUTHN_ORIGINS: "${origin}" is not an origin such as https://example.com`);
  }
  for (const origin of list(e.CORS_ORIGINS)) {
    if (!/^https?:\/\/[^/\s]+$/.test(origin)) problems.push(`CORS_ORIGINS: "${origin}" is not an origin such as https://app.example.com`);
  }
  // Node refuses a server whose headers may take longer than the whole request.
  if (e.HTTP_HEADERS_TIMEOUT_MS > e.HTTP_REQUEST_TIMEOUT_MS) problems.push("HTTP_HEADERS_TIMEOUT_MS: may not exceed HTTP_REQUEST_TIMEOUT_MS");
  for (const cidr of list(e.SNA_SANDBOX_COVERAGE)) {
    if (!/^[0-9a-fA-F.:]+(\/\d{1,3})?$/.test(cidr)) problems.push(`SNA_SANDBOX_COVERAGE: "${cidr}" is not an address range`);
  }
  return problems;
}

const list = (value: string | undefined) =>
  (value ?? "")
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);

export interface DeliveryConfig {
  /** The transports' variables, parsed: each transport reads its own (src/providers/plugins.ts). */
  env: TransportEnv;
  whatsappFallbackToSms: boolean;
  rcsCapableNumbers: string[];
  leaseMs: number;
  maxTries: number;
  timeoutMs: number;
  /** Where this instance runs the outbox (OUTBOX_RUNNER). */
  runner: "inline" | "thread" | "off";
  sna: { ranges: { cidr: string; msisdn: string }[]; coverage: string[]; fallbackMs: number };
}

/** The node:http server and what it lets browsers and anonymous callers see. */
export interface HttpConfig {
  /** Larger request bodies are answered 413 before anything parses them. */
  maxBodyBytes: number;
  headersTimeoutMs: number;
  requestTimeoutMs: number;
  keepAliveTimeoutMs: number;
  maxConnections: number;
  /** Origins a browser may call from (CORS); null: any origin (development's default). */
  corsOrigins: string[] | null;
  /** Schema introspection (and so GraphiQL's docs and completion); off in production unless enabled. */
  introspection: boolean;
  /** The bearer token `/metrics` asks for; without one, production does not serve `/metrics`. */
  metricsToken: string | null;
  /** Metrics served without a token (development only). */
  openMetrics: boolean;
  /** Strict-Transport-Security on every response: the public address is https. */
  hsts: boolean;
  /** The common `POST /graphql` (JSON, one query or mutation) served without yoga's HTTP layer, answered alike. */
  fastPath: boolean;
}

export interface Config {
  readonly env: "development" | "production" | "test";
  readonly port: number;
  readonly host: string;
  readonly dataDir: string;
  readonly database: { kind: "sqlite"; file: string } | { kind: "pg"; url: string; schema: string | null };
  readonly redisUrl: string | null;
  readonly adminKey: string | null;
  /** The account sid the Twilio-compatible REST API answers with and accepts with the admin key (HTTP Basic). */
  readonly accountSid: string | null;
  readonly secret: string | null;
  readonly publicUrl: string | null;
  readonly webauthn: { rpId: string | null; origins: string[] };
  readonly webPush: { publicKey: string | null; privateKey: string | null; subject: string; caFile: string | null; hosts: string[] | null };
  readonly fcm: { serviceAccountFile: string; apiUrl: string } | null;
  readonly apns: { keyFile: string; keyId: string; teamId: string; topic: string; url: string } | null;
  readonly logLevel: string;
  readonly sweepIntervalMs: number;
  readonly graphiql: boolean;
  readonly http: HttpConfig;
  readonly delivery: DeliveryConfig;
  /** Carrier lookup service (none by default) and webhook retries. */
  readonly lookup: { url: string | null; timeoutMs: number };
  readonly webhookMaxTries: number;
  /** May webhooks reach loopback, private and link-local addresses? */
  readonly webhookPrivateNetworks: boolean;
  /** Caps on open subscriptions (per graphql-ws socket, per token on this instance) and sockets per client address. */
  readonly subscriptionLimits: SubscriptionLimits;
}

export interface SubscriptionLimits {
  perSocket: number;
  perToken: number;
  socketsPerAddress: number;
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
  }
}

/** Reads the whole environment at once and reports every problem together, naming each variable. */
export function loadConfig(env: Record<string, string | undefined>): Config {
  // Transports registered so far bring their variables (a test may register one before loading).
  const transportVariables = transportEnv();
  const parsed = envSchema.extend(transportVariables).safeParse(Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== "")));
  if (!parsed.success) {
    throw new ConfigError(parsed.error.issues.map((issue) => `${issue.path.join(".")}: ${issue.message}`));
  }
  const e = parsed.data as Env;
  const problems = pairs(e);
  if (problems.length > 0) throw new ConfigError(problems);
  const production = e.NODE_ENV === "production";
  const dataDir = isAbsolute(e.DATA_DIR) ? e.DATA_DIR : resolve(e.DATA_DIR);
  const postgres = e.DATABASE_URL && /^postgres(ql)?:\/\//.test(e.DATABASE_URL);
  const database: Config["database"] = postgres
    ? { kind: "pg", url: e.DATABASE_URL as string, schema: e.DATABASE_SCHEMA ?? null }
    : { kind: "sqlite", file: e.DATABASE_URL ? e.DATABASE_URL.replace(/^(sqlite|file):(\/\/)?/, "") : resolve(dataDir, "verigate.db") };
  return Object.freeze({
    env: e.NODE_ENV,
    port: e.PORT,
    host: e.HOST,
    dataDir,
    database,
    redisUrl: e.REDIS_URL ?? null,
    adminKey: e.VERIGATE_ADMIN_KEY ?? null,
    accountSid: e.VERIGATE_ACCOUNT_SID ?? null,
    secret: e.VERIGATE_SECRET ?? null,
    publicUrl: e.PUBLIC_URL ?? null,
    webauthn: { rpId: e.WEBAUTHN_RP_ID ?? null, origins: list(e.WEBAUTHN_ORIGINS) },
    apns: e.APNS_KEY_FILE && e.APNS_KEY_ID && e.APNS_TEAM_ID && e.APNS_TOPIC ? { keyFile: e.APNS_KEY_FILE, keyId: e.APNS_KEY_ID, teamId: e.APNS_TEAM_ID, topic: e.APNS_TOPIC, url: e.APNS_URL } : null,
    fcm: e.FCM_SERVICE_ACCOUNT ? { serviceAccountFile: e.FCM_SERVICE_ACCOUNT, apiUrl: e.FCM_API_URL } : null,
    webPush: {
      publicKey: e.VAPID_PUBLIC_KEY ?? null,
      privateKey: e.VAPID_PRIVATE_KEY ?? null,
      subject: e.VAPID_SUBJECT,
      caFile: e.PUSH_TLS_CA_FILE ?? null,
      hosts: webPushHosts(e.WEB_PUSH_HOSTS, e.NODE_ENV),
    },
    logLevel: e.LOG_LEVEL,
    sweepIntervalMs: e.SWEEP_INTERVAL_MS,
    graphiql: e.GRAPHIQL ?? !production,
    http: {
      maxBodyBytes: e.MAX_BODY_BYTES,
      headersTimeoutMs: e.HTTP_HEADERS_TIMEOUT_MS,
      requestTimeoutMs: e.HTTP_REQUEST_TIMEOUT_MS,
      keepAliveTimeoutMs: e.HTTP_KEEP_ALIVE_TIMEOUT_MS,
      maxConnections: e.MAX_CONNECTIONS,
      corsOrigins: e.CORS_ORIGINS !== undefined || production ? list(e.CORS_ORIGINS) : null,
      introspection: e.GRAPHQL_INTROSPECTION ?? !production,
      metricsToken: e.METRICS_TOKEN ?? null,
      openMetrics: !production && !e.METRICS_TOKEN,
      hsts: e.PUBLIC_URL?.startsWith("https:") ?? false,
      fastPath: e.FAST_PATH ?? true,
    },
    lookup: { url: e.LOOKUP_URL ?? null, timeoutMs: e.LOOKUP_TIMEOUT_MS },
    webhookMaxTries: e.WEBHOOK_MAX_TRIES,
    webhookPrivateNetworks: (e.WEBHOOK_PRIVATE_NETWORKS ?? (e.NODE_ENV === "production" ? "deny" : "allow")) === "allow",
    subscriptionLimits: { perSocket: e.MAX_SUBSCRIPTIONS_PER_SOCKET, perToken: e.MAX_SUBSCRIPTIONS_PER_TOKEN, socketsPerAddress: e.MAX_SOCKETS_PER_ADDRESS },
    delivery: {
      // Each transport sees the transports' variables only, never the gateway's own secrets.
      env: Object.freeze(Object.fromEntries(Object.keys(transportVariables).map((name) => [name, (parsed.data as Record<string, unknown>)[name]]))),
      whatsappFallbackToSms: e.WHATSAPP_FALLBACK_SMS,
      rcsCapableNumbers: (e.RCS_CAPABLE_NUMBERS ?? "")
        .split(",")
        .map((s) => s.trim())
        .filter(Boolean),
      leaseMs: e.OUTBOX_LEASE_MS,
      maxTries: e.OUTBOX_MAX_TRIES,
      runner: e.OUTBOX_RUNNER,
      timeoutMs: e.PROVIDER_TIMEOUT_MS,
      sna: {
        ranges: list(e.SNA_SANDBOX_RULES).map((rule) => {
          const [cidr, msisdn] = rule.split("=");
          return { cidr, msisdn };
        }),
        coverage: list(e.SNA_SANDBOX_COVERAGE),
        fallbackMs: e.SNA_FALLBACK_SECONDS * 1000,
      },
    },
  });
}

/** The public push services of Chrome/Android (FCM), Safari, Edge and Firefox. */
const knownPushServices = ["*.googleapis.com", "*.push.apple.com", "*.notify.windows.com", "updates.push.services.mozilla.com"];

/** WEB_PUSH_HOSTS: `*` (or unset outside production) reaches any host; unset in production, the known push services. */
function webPushHosts(value: string | undefined, env: string): string[] | null {
  if (value === undefined) return env === "production" ? knownPushServices : null;
  const hosts = list(value);
  return hosts.includes("*") ? null : hosts;
}
