import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { randomBytes } from "node:crypto";
import Database from "better-sqlite3";
import pg from "pg";
import { createClient, type Client } from "graphql-ws";
import pino from "pino";
import WebSocket from "ws";
import { type App, buildApp } from "../../src/app.js";
import { loadConfig } from "../../src/config.js";
import type { Clock } from "../../src/domain/clock.js";

export const ADMIN_KEY = "vga_test_admin_key_0123456789abcdef";

export interface GraphQLResponse<T = Record<string, any>> {
  data?: T | null;
  errors?: { message: string; path?: string[]; extensions?: Record<string, any> }[];
}

export interface TestGateway {
  app: App;
  url: string;
  dataDir: string;
  defaultServiceSid: string;
  /** Everything the server logged, as text. */
  logs: () => string;
  gql<T = Record<string, any>>(query: string, variables?: Record<string, unknown>, token?: string | null): Promise<GraphQLResponse<T>>;
  /** Row counts straight from the database, to prove that nothing was written. */
  counts(): Promise<Record<string, number>>;
  /** SQL straight against the store (`?` placeholders), whichever store it is; for checks and for playing a tampering attacker. */
  sql<T = Record<string, unknown>>(query: string, params?: unknown[]): Promise<T[]>;
  wsClient(token?: string | null): Client;
  /** Stops the gateway and starts a new one on the same store (a restart; the port changes). */
  restart(): Promise<void>;
  close(): Promise<void>;
}

/** The real server on port 0 with its own data directory; only the clock may be swapped. */
export async function startGateway(options: { clock?: Clock; env?: Record<string, string> } = {}): Promise<TestGateway> {
  const dataDir = mkdtempSync(join(tmpdir(), "verigate-test-"));
  const db = await testDatabase(dataDir);
  const config = loadConfig({ PORT: "0", DATA_DIR: dataDir, VERIGATE_ADMIN_KEY: ADMIN_KEY, SWEEP_INTERVAL_MS: "50", NODE_ENV: "test", ...db.env, ...options.env });
  let logText = "";
  const sink = new Writable({
    write(chunk, _enc, done) {
      logText += chunk.toString();
      done();
    },
  });
  const boot = async () => {
    const started = await buildApp(config, { clock: options.clock, logger: pino({ level: "debug" }, sink), announce: (line) => (logText += `${line}\n`) });
    await started.start();
    return started;
  };
  let app = await boot();
  let url = app.url;
  const clients: Client[] = [];

  const gql: TestGateway["gql"] = async (query, variables, token = ADMIN_KEY) => {
    const response = await fetch(`${url}/graphql`, {
      method: "POST",
      headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: JSON.stringify({ query, variables }),
    });
    return (await response.json()) as GraphQLResponse<any>;
  };
  const services = await gql<{ services: { nodes: { sid: string }[] } }>("{ services { nodes { sid } } }");
  const defaultServiceSid = services.data!.services.nodes[0].sid;

  return {
    get app() {
      return app;
    },
    get url() {
      return url;
    },
    dataDir,
    defaultServiceSid,
    logs: () => logText,
    gql,
    async counts() {
      const tables = ["services", "api_keys", "verifications", "send_attempts", "outbox", "events", "dev_outbox", "entities", "factors", "challenges", "fraud_blocks", "webhooks", "webhook_deliveries"];
      const counts: Record<string, number> = {};
      for (const table of tables) counts[table] = Number((await db.sql<{ n: number }>(`select count(*) as n from ${table}`))[0].n);
      return counts;
    },
    sql: (query, params) => db.sql(query, params),
    wsClient(token = ADMIN_KEY) {
      const client = createClient({
        url: `${url.replace("http", "ws")}/graphql`,
        webSocketImpl: WebSocket,
        connectionParams: token ? { authorization: `Bearer ${token}` } : {},
        retryAttempts: 0,
        lazy: true,
      });
      clients.push(client);
      return client;
    },
    async restart() {
      await app.stop();
      app = await boot();
      url = app.url;
    },
    async close() {
      await Promise.all(clients.map((c) => c.dispose()));
      await app.stop();
      await db.drop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/**
 * The database a test gateway runs on: the embedded store in its data directory, or, when the suite
 * runs as the `pg` project, a fresh schema of its own in TEST_PG_URL (dropped afterwards).
 */
async function testDatabase(dataDir: string) {
  if (process.env.VERIGATE_TEST_STORE !== "pg") {
    return {
      env: {},
      async sql<T>(query: string, params: unknown[] = []): Promise<T[]> {
        const db = new Database(join(dataDir, "verigate.db"));
        try {
          const statement = db.prepare(query);
          return (statement.reader ? statement.all(...params) : (statement.run(...params), [])) as T[];
        } finally {
          db.close();
        }
      },
      drop: async () => {},
    };
  }
  const url = process.env.TEST_PG_URL as string;
  const schema = `gw_${randomBytes(6).toString("hex")}`;
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  await admin.query(`create schema ${schema}`);
  await admin.query(`set search_path to ${schema}`);
  return {
    env: { DATABASE_URL: url, DATABASE_SCHEMA: schema },
    async sql<T>(query: string, params: unknown[] = []): Promise<T[]> {
      let i = 0;
      return (await admin.query(query.replace(/\?/g, () => `$${++i}`), params)).rows as T[];
    },
    async drop() {
      await admin.query(`drop schema ${schema} cascade`);
      await admin.end();
    },
  };
}

/** Collects a graphql-ws subscription until it completes (or errors). */
export function subscribeWs<T = any>(client: Client, query: string, variables: Record<string, unknown>) {
  const values: T[] = [];
  const errors: unknown[] = [];
  let onValue: (() => void) | undefined;
  const done = new Promise<void>((resolve) => {
    client.subscribe<T>(
      { query, variables },
      {
        next: (result) => {
          if (result.errors) errors.push(...result.errors);
          if (result.data) values.push(result.data);
          onValue?.();
        },
        error: (error) => {
          errors.push(error);
          resolve();
        },
        complete: () => resolve(),
      },
    );
  });
  const waitFor = (count: number) =>
    new Promise<void>((resolve) => {
      const check = () => {
        if (values.length >= count || errors.length > 0) resolve();
      };
      onValue = check;
      check();
    });
  return { values, errors, done, waitFor };
}

/** GraphQL over SSE (distinct connections), read as a browser's EventSource would. */
export async function subscribeSse(url: string, query: string, variables: Record<string, unknown>, token: string) {
  const abort = new AbortController();
  const response = await fetch(`${url}/graphql`, {
    method: "POST",
    headers: { "content-type": "application/json", accept: "text/event-stream", authorization: `Bearer ${token}` },
    body: JSON.stringify({ query, variables }),
    signal: abort.signal,
  });
  const events: { event: string; data: any }[] = [];
  const listeners = new Set<() => void>();
  const done = (async () => {
    const decoder = new TextDecoder();
    let buffer = "";
    for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
      buffer += decoder.decode(chunk, { stream: true });
      let end: number;
      while ((end = buffer.indexOf("\n\n")) >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const event = /^event: (.*)$/m.exec(block)?.[1] ?? "message";
        const data = /^data: (.*)$/m.exec(block)?.[1];
        if (block.startsWith(":")) continue;
        events.push({ event, data: data ? JSON.parse(data) : null });
        for (const l of listeners) l();
      }
    }
  })().catch(() => {
    // The client cancelled the stream, or the server went away: the stream simply ends.
  });
  const waitFor = (predicate: () => boolean) =>
    new Promise<void>((resolve) => {
      const check = () => predicate() && resolve();
      listeners.add(check);
      check();
    });
  /** Goes away as a browser tab would: the connection is dropped. */
  const close = () => abort.abort();
  return { response, events, done, waitFor, close };
}

export const START = /* GraphQL */ `
  mutation Start($input: StartVerificationInput!) {
    startVerification(input: $input) {
      clientToken
      verification { sid status channel to valid sendCodeAttempts { attemptSid channel status } expiresAt }
    }
  }
`;
export const CHECK = /* GraphQL */ `
  mutation Check($input: CheckVerificationInput!) {
    checkVerification(input: $input) { verification { sid status valid } }
  }
`;
export const OUTBOX = /* GraphQL */ `
  query Outbox($to: String) { devOutbox(to: $to) { to code body channel verificationSid attemptSid } }
`;

/** Starts a verification and returns it with the code the dev outbox received. */
export async function startAndReadCode(gw: TestGateway, input: Record<string, unknown>, token: string = ADMIN_KEY) {
  const started = await gw.gql(START, { input: { serviceSid: gw.defaultServiceSid, channel: "SMS", ...input } }, token);
  if (started.errors) throw new Error(JSON.stringify(started.errors));
  await gw.app.dispatcher.idle();
  const sid = started.data!.startVerification.verification.sid as string;
  const outbox = await gw.gql(OUTBOX, {});
  const message = outbox.data!.devOutbox.find((m: { verificationSid: string }) => m.verificationSid === sid);
  return { sid, code: message.code as string, clientToken: started.data!.startVerification.clientToken as string, started: started.data!.startVerification };
}

export const errorCode = (response: GraphQLResponse): string | undefined => response.errors?.[0]?.extensions?.code;
