import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createClient } from "graphql-ws";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import WebSocket from "ws";
import { HTTP_SECRET, startHttpPeer } from "./support/peers.js";
import { listeningUrl } from "./support/banner.js";

// Two gateway processes on one PostgreSQL schema and one Redis, as a load balancer would see them.
const PG = process.env.TEST_PG_URL as string;
const REDIS = process.env.TEST_REDIS_URL ?? "redis://127.0.0.1:6379";
const ADMIN = "vga_scale_out_admin_key_0123456789";
const schema = `scale_${randomBytes(5).toString("hex")}`;
const children = new Map<string, ChildProcess>();
const dirs: string[] = [];
let vendor: Awaited<ReturnType<typeof startHttpPeer>>;
let delay = 0;
let a: string;
let b: string;
let serviceSid: string;

async function instance(name: string): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), `verigate-${name}-`));
  dirs.push(dir);
  const child = spawn(process.execPath, ["--import", "tsx", "src/main.ts", "serve"], {
    env: {
      PATH: process.env.PATH,
      PORT: "0",
      LOG_LEVEL: "warn",
      DATA_DIR: dir,
      VERIGATE_ADMIN_KEY: ADMIN,
      VERIGATE_SECRET: "scale-out-shared-secret-0123456789abcdef",
      DATABASE_URL: PG,
      DATABASE_SCHEMA: schema,
      REDIS_URL: REDIS,
      HTTP_SMS_URL: vendor.url,
      HTTP_PROVIDER_SECRET: HTTP_SECRET,
      OUTBOX_LEASE_MS: "5000",
    },
    stdio: ["ignore", "pipe", "inherit"],
  });
  children.set(name, child);
  let out = "";
  child.stdout?.on("data", (d) => (out += d));
  await vi.waitFor(() => expect(out).toMatch(/listening on http:\/\/\S+\/graphql/), { timeout: 30_000 });
  return listeningUrl(out)!;
}

const gql = async (url: string, query: string, variables: Record<string, unknown> = {}) =>
  (await (await fetch(`${url}/graphql`, { method: "POST", headers: { "content-type": "application/json", authorization: `Bearer ${ADMIN}` }, body: JSON.stringify({ query, variables }) })).json()) as { data?: any; errors?: any[] };
const START = `mutation($i: StartVerificationInput!) { startVerification(input: $i) { verification { sid } } }`;
const CHECK = `mutation($i: CheckVerificationInput!) { checkVerification(input: $i) { verification { status } } }`;
const phone = (n: number) => `+1415${300 + Math.floor(n / 10_000)}${String(n % 10_000).padStart(4, "0")}`;
const db = async <T>(query: string, params: unknown[] = []): Promise<T[]> => {
  const client = new pg.Client({ connectionString: PG });
  await client.connect();
  try {
    await client.query(`set search_path to ${schema}`);
    return (await client.query(query, params)).rows as T[];
  } finally {
    await client.end();
  }
};

beforeAll(async () => {
  vendor = await startHttpPeer(async (r) => {
    if (delay) await new Promise((resolve) => setTimeout(resolve, delay));
    return { status: 200, body: { messageId: `m-${r.json?.attemptSid}` } };
  });
  const admin = new pg.Client({ connectionString: PG });
  await admin.connect();
  await admin.query(`create schema ${schema}`);
  await admin.end();
  [a, b] = await Promise.all([instance("a"), instance("b")]);
  serviceSid = (await gql(a, "{ services { nodes { sid } } }")).data.services.nodes[0].sid;
  // Thousands of starts into one number range with nobody answering is what Fraud Guard exists to stop;
  // here it is load, so the guard is off for this service.
  await gql(a, `mutation($s: ID!) { updateService(input: { sid: $s, customCodeEnabled: true, fraudGuard: OFF }) { sid } }`, { s: serviceSid });
}, 90_000);

afterAll(async () => {
  for (const child of children.values()) child.kill("SIGKILL");
  await vendor?.close();
  const admin = new pg.Client({ connectionString: PG });
  await admin.connect();
  await admin.query(`drop schema if exists ${schema} cascade`);
  await admin.end();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe("several gateway instances on PostgreSQL + Redis", () => {
  it("both instances share one store: one Default service, one admin key", async () => {
    expect((await gql(b, "{ services { nodes { sid } } }")).data.services.nodes).toEqual([{ sid: serviceSid }]);
  });

  it("a subscriber on instance A sees an approval made through instance B", async () => {
    const started = await gql(a, START, { i: { serviceSid, to: phone(1), channel: "SMS", customCode: "424242" } });
    const sid = started.data.startVerification.verification.sid;
    const client = createClient({ url: `${a.replace("http", "ws")}/graphql`, webSocketImpl: WebSocket, connectionParams: { authorization: `Bearer ${ADMIN}` }, retryAttempts: 0 });
    const statuses: string[] = [];
    const done = new Promise<void>((resolve, reject) =>
      client.subscribe({ query: "subscription($sid: ID!) { verificationUpdated(sid: $sid) { status } }", variables: { sid } }, {
        next: (v: any) => statuses.push(v.data.verificationUpdated.status),
        error: reject,
        complete: resolve,
      }),
    );
    await vi.waitFor(() => expect(statuses.length).toBeGreaterThan(0));
    const checked = await gql(b, CHECK, { i: { serviceSid, to: phone(1), code: "424242" } });
    expect(checked.data.checkVerification.verification.status).toBe("APPROVED");
    await done;
    expect(statuses.at(-1)).toBe("APPROVED");
    await client.dispose();
  });

  it("200 parallel wrong checks spread over both instances count exactly maxCheckAttempts", async () => {
    const started = await gql(a, START, { i: { serviceSid, to: phone(2), channel: "SMS", customCode: "111111" } });
    const sid = started.data.startVerification.verification.sid;
    const results = await Promise.all(Array.from({ length: 200 }, (_, i) => gql(i % 2 ? a : b, CHECK, { i: { serviceSid, verificationSid: sid, code: "999999" } })));
    const outcome = results.map((r) => r.data?.checkVerification.verification.status ?? r.errors?.[0].extensions.code);
    expect(outcome.filter((s) => s === "PENDING")).toHaveLength(4);
    expect(outcome.filter((s) => s === "MAX_ATTEMPTS_REACHED")).toHaveLength(1);
    expect(outcome.filter((s) => s === "MAX_CHECK_ATTEMPTS_REACHED")).toHaveLength(195);
    const [row] = await db<{ check_attempts: number; status: string }>("select check_attempts, status from verifications where sid = $1", [sid]);
    expect(row).toEqual({ check_attempts: 5, status: "MAX_ATTEMPTS_REACHED" });
    const events = await db<{ n: string }>("select count(*) as n from events where resource_sid = $1 and type = 'verification.check_failed'", [sid]);
    expect(Number(events[0].n)).toBe(4);
  });

  it("rate limits hold across instances: the counters live in Redis", async () => {
    const created = await gql(a, `mutation { createService(input: { friendlyName: "Limited", rateLimits: { perTo: [{ max: 3, interval: 3600 }] } }) { sid } }`);
    const limited = created.data.createService.sid;
    const to = phone(9000);
    for (const url of [a, b, a]) expect((await gql(url, START, { i: { serviceSid: limited, to, channel: "SMS" } })).errors).toBeUndefined();
    const refused = await gql(b, START, { i: { serviceSid: limited, to, channel: "SMS" } });
    expect(refused.errors?.[0].extensions).toMatchObject({ code: "RATE_LIMITED", twilioCode: 20429 });
    expect(refused.errors?.[0].extensions.retryAfterSeconds).toBeGreaterThan(3000);
    expect(await db("select key from rate_limits")).toEqual([]);
  });

  it("1,000 verifications started across both instances produce exactly 1,000 deliveries", async () => {
    const before = vendor.requests.length;
    for (let batch = 0; batch < 10; batch++) {
      const results = await Promise.all(Array.from({ length: 100 }, (_, i) => gql(i % 2 ? a : b, START, { i: { serviceSid, to: phone(1000 + batch * 100 + i), channel: "SMS" } })));
      expect(results.every((r) => !r.errors)).toBe(true);
    }
    await vi.waitFor(() => expect(vendor.requests.length - before).toBeGreaterThanOrEqual(1000), { timeout: 60_000, interval: 200 });
    await new Promise((r) => setTimeout(r, 2000));
    const sent = vendor.requests.slice(before).map((r) => r.json.attemptSid as string);
    expect(sent).toHaveLength(1000);
    expect(new Set(sent).size).toBe(1000);
    const [pending] = await db<{ n: string }>("select count(*) as n from outbox");
    expect(Number(pending.n)).toBe(0);
  }, 120_000);

  it("killing one instance mid-delivery loses nothing: the other takes its jobs over when their lease ends", async () => {
    const before = vendor.requests.length;
    delay = 100;
    const tos = Array.from({ length: 200 }, (_, i) => phone(3000 + i));
    await Promise.all(tos.map((to, i) => gql(i % 2 ? a : b, START, { i: { serviceSid, to, channel: "SMS" } })));
    await vi.waitFor(() => expect(vendor.requests.length - before).toBeGreaterThan(10), { timeout: 20_000 });
    children.get("a")?.kill("SIGKILL");
    delay = 0;
    await vi.waitFor(
      async () => {
        const rows = await db<{ status: string; n: string }>(`select status, count(*) as n from send_attempts where "to" = any($1) group by status`, [tos]);
        expect(rows).toEqual([{ status: "SENT", n: "200" }]);
      },
      { timeout: 60_000, interval: 500 },
    );
    const delivered = new Set(vendor.requests.slice(before).map((r) => r.json.attemptSid));
    expect(delivered.size).toBe(200);
    const [pending] = await db<{ n: string }>("select count(*) as n from outbox");
    expect(Number(pending.n)).toBe(0);
  }, 120_000);
});
