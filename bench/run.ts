/**
 * `npm run bench` (add `-- --smoke` for CI's short run): the gateway and a bare-yoga floor each run in
 * their own process; this process is the load generator (autocannon, graphql-ws clients) on loopback.
 * Results are printed and written to BENCHMARKS.md. Ratios to the floor are measured in the same run.
 * Beside requests per second, each measure reports the serving process's CPU µs per request (from
 * /proc/<pid>/stat), the steadier figure on a shared machine; a pair of measures prices the protections
 * (Fraud Guard and rate limits on, then off); PostgreSQL rows run start and check against one and two
 * gateways on PostgreSQL (TEST_PG_URL; skipped with the reason if it is unreachable, except under CI=true;
 * the smoke run measures one instance only). REST rows: the same start and check through the
 * Twilio-compatible REST API (form-encoded, HTTP Basic), beside the GraphQL ones.
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";
import autocannon, { type Result } from "autocannon";
import { createClient } from "graphql-ws";
import WebSocket from "ws";
import { parsePhoneNumberFromString } from "libphonenumber-js/max";
import { generateSync } from "otplib";
import pg from "pg";
import { startSmppServer, startSmtpServer } from "../test/support/peers.js";
import { SoftAuthenticator } from "./authenticator.js";
import { ACCOUNT_SID, REST_HEADERS, form } from "./support.js";
import { paced } from "./paced.js";

const smoke = process.argv.includes("--smoke");
const DURATION = smoke ? 2 : 10;
const CONNECTIONS = 32;
const SUBSCRIPTIONS = smoke ? 200 : 10_000;
const DELIVERIES = smoke ? 100 : 2_000;
const APPROVALS_PER_SECOND = 1000;
const ADMIN = "vga_bench_admin_key_0123456789abcdef";
const children: ChildProcess[] = [];
const dirs: string[] = [];

const processes = new Map<string, ChildProcess>();
const began = performance.now();
/** Progress on stderr, so a slow or stuck run shows where it is. */
const phase = (name: string) => process.stderr.write(`[bench ${((performance.now() - began) / 1000).toFixed(1)} s] ${name}\n`);

function spawnServer(args: string[], env: Record<string, string> = {}): Promise<string> {
  const child = spawn(process.execPath, ["--expose-gc", "--import", "./bench/gc-hook.mjs", "--import", "tsx", ...args], {
    env: { PATH: process.env.PATH, ...env },
    stdio: ["ignore", "pipe", "inherit"],
  });
  children.push(child);
  return new Promise((resolve, reject) => {
    let out = "";
    child.stdout?.on("data", (d) => {
      out += d;
      const match = /listening on (http:\/\/\S+)\/graphql/.exec(out);
      if (match) {
        // The gateway's banner names localhost for people; dial the address it listens on.
        const url = match[1].replace("//localhost:", "//127.0.0.1:");
        processes.set(url, child);
        resolve(url);
      }
    });
    child.once("exit", (code) => reject(new Error(`${args.join(" ")} exited with ${code}`)));
  });
}

async function gateway(extraEnv: Record<string, string> = {}) {
  const dir = mkdtempSync(join(tmpdir(), "verigate-bench-"));
  dirs.push(dir);
  // The fan-out measure holds 10,000 streams of one key on 100 sockets from one address: past the default caps.
  const caps = { MAX_SUBSCRIPTIONS_PER_TOKEN: String(SUBSCRIPTIONS), MAX_SOCKETS_PER_ADDRESS: String(Math.ceil(SUBSCRIPTIONS / 100) + 10) };
  return spawnServer(["src/main.ts", "serve"], { PORT: "0", DATA_DIR: dir, VERIGATE_ADMIN_KEY: ADMIN, VERIGATE_ACCOUNT_SID: ACCOUNT_SID, LOG_LEVEL: "warn", ...caps, ...extraEnv });
}

const gql = async (url: string, query: string, variables: Record<string, unknown> = {}) => {
  const response = await fetch(`${url}/graphql`, { method: "POST", headers: { "content-type": "application/json", authorization: `Bearer ${ADMIN}` }, body: JSON.stringify({ query, variables }) });
  const body = (await response.json()) as { data?: any; errors?: unknown[] };
  if (body.errors) throw new Error(JSON.stringify(body.errors));
  return body.data;
};

/** Load is not abuse: the bench's service has no Fraud Guard and no rate limits (BENCHMARKS.md measures the path, not the guards). */
const UNGUARDED = "fraudGuard: OFF, rateLimits: { perTo: [], perIp: [], perService: [] }";

/** Distinct valid US numbers: +1 415 2xx-xxxx and up. */
const phone = (n: number) => `+1415${200 + Math.floor(n / 10_000)}${String(n % 10_000).padStart(4, "0")}`;

const START = "mutation($i: StartVerificationInput!) { startVerification(input: $i) { verification { sid } } }";
const CHECK = "mutation($i: CheckVerificationInput!) { checkVerification(input: $i) { verification { status } } }";

interface Row {
  name: string;
  rate: number;
  p50: number;
  p99: number;
  errors: number;
  /** Requests (pairs for a pairs measure) the CPU figures divide by. */
  count?: number;
  /** CPU µs per request of the serving process(es): utime + stime from /proc/<pid>/stat. */
  cpu?: number;
  note?: string;
}

/**
 * CPU time from /proc/<pid>/stat (utime + stime, fields 14 and 15, in clock ticks): on a shared machine,
 * CPU per request is steadier than requests per second. Ticks are 10 ms at CLK_TCK 100, so a measure
 * needs a few thousand requests (or a few seconds of CPU) to read to a few percent.
 */
const CLK_TCK = (() => {
  try {
    return Number(execFileSync("getconf", ["CLK_TCK"]).toString().trim()) || 100;
  } catch {
    return 100;
  }
})();
function statOf(pid: number | string): { comm: string; ticks: number } | null {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, "utf8");
    const close = text.lastIndexOf(")");
    const fields = text.slice(close + 2).split(" ");
    return { comm: text.slice(text.indexOf("(") + 1, close), ticks: Number(fields[11]) + Number(fields[12]) };
  } catch {
    return null;
  }
}
const ticksOf = (pid: number) => statOf(pid)?.ticks ?? Number.NaN;
/** Every `postgres` process on this machine (postmaster, backends, WAL writer, checkpointer…) and its ticks. */
function postgresTicks(): Map<number, number> {
  const found = new Map<number, number>();
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = statOf(entry);
    if (stat?.comm === "postgres") found.set(Number(entry), stat.ticks);
  }
  return found;
}
/** Ticks spent between two samples, by the processes in `only` when given (a process that started in between counts from zero). */
function ticksBetween(before: Map<number, number>, after: Map<number, number>, only?: Set<number>): number {
  let sum = 0;
  for (const [pid, ticks] of after) if (!only || only.has(pid)) sum += ticks - (before.get(pid) ?? 0);
  return sum;
}
const usPerRequest = (ticks: number, count: number) => (count > 0 ? (ticks * 1e6) / CLK_TCK / count : Number.NaN);
const pidOf = (url: string) => processes.get(url)?.pid as number;

async function load(
  name: string,
  url: string,
  options: {
    body: (n: number, ctx: Record<string, unknown>) => string;
    amount?: number;
    token?: boolean;
    pairs?: (ctx: Record<string, unknown>) => string;
    /** Reads the first request's answer into the context the second one is built from. */
    capture?: (body: string, ctx: Record<string, unknown>) => void;
    seconds?: number;
    connections?: number;
    /** Awaited before the closing CPU sample: work the load left behind (the outbox's deliveries) is the load's. */
    settle?: () => Promise<unknown>;
    /** The Twilio-compatible REST API instead of /graphql: its path (form bodies, HTTP Basic) and its success status. */
    rest?: { path: string; ok: number };
  },
): Promise<Row> {
  const pid = pidOf(url);
  const before = ticksOf(pid);
  let n = 0;
  let errors = 0;
  const rest = options.rest;
  const headers = rest ? REST_HEADERS : { "content-type": "application/json", ...(options.token === false ? {} : { authorization: `Bearer ${ADMIN}` }) };
  const onResponse = (status: number, body: string) => {
    if (rest ? status !== rest.ok : status !== 200 || body.includes('"errors"')) {
      errors++;
      if (process.env.BENCH_DEBUG && errors < 4) process.stderr.write(`${name}: ${body.slice(0, 300)}\n`);
    }
  };
  const requests = options.pairs
    ? [
        {
          method: "POST" as const,
          headers,
          setupRequest: (req: any, ctx: any) => ({ ...req, body: options.body(n++, ctx) }),
          onResponse: (status: number, body: string, ctx: any) => {
            onResponse(status, body);
            options.capture?.(body, ctx);
          },
        },
        { method: "POST" as const, headers, setupRequest: (req: any, ctx: any) => ({ ...req, body: options.pairs!(ctx) }), onResponse },
      ]
    : [{ method: "POST" as const, headers, setupRequest: (req: any, ctx: any) => ({ ...req, body: options.body(n++, ctx) }), onResponse }];
  const result: Result = await autocannon({
    url: rest ? `${url}${rest.path}` : `${url}/graphql`,
    connections: options.connections ?? CONNECTIONS,
    ...(options.amount ? { amount: options.amount } : { duration: options.seconds ?? DURATION }),
    requests,
  });
  await options.settle?.();
  const ticks = ticksOf(pid) - before;
  const rate = options.pairs ? result.requests.average / 2 : result.requests.average;
  const count = options.pairs ? result.requests.total / 2 : result.requests.total;
  return { name, rate, p50: result.latency.p50, p99: result.latency.p99, errors: errors + result.non2xx + result.errors, count, cpu: usPerRequest(ticks, count) };
}

/** Resident memory after a full collection (bench/gc-hook.mjs) and a moment to settle. */
async function rss(url: string): Promise<number> {
  // Twice: V8 hands freed pages back to the system lazily; the second pass finds the heap settled.
  for (let i = 0; i < 2; i++) {
    processes.get(url)?.kill("SIGUSR2");
    await new Promise((r) => setTimeout(r, 1500));
  }
  const text = await (await fetch(`${url}/metrics`)).text();
  return Number(/^verigate_process_resident_memory_bytes (\d+)/m.exec(text)?.[1] ?? 0);
}

const metricSum = (text: string, name: string) => [...text.matchAll(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\d+(?:\\.\\d+)?)$`, "gm"))].reduce((sum, m) => sum + Number(m[1]), 0);

/**
 * Waits until the outbox is empty (every started verification's message delivered or cancelled), so a
 * measure does not pay for the previous one's deliveries. Answers how long that took.
 */
async function drained(url: string): Promise<number> {
  const t0 = performance.now();
  for (;;) {
    const text = await (await fetch(`${url}/metrics`)).text();
    // The outbox, not delivered = started: a check that beats the dispatcher rightly cancels the message.
    const jobs = metricSum(text, "verigate_outbox_jobs");
    if (jobs === 0) break;
    if (performance.now() - t0 > 60_000) {
      process.stderr.write(`bench: the outbox did not drain in 60 s (${jobs} jobs left)\n`);
      break;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return (performance.now() - t0) / 1000;
}

async function fanOut(url: string, serviceSid: string) {
  // Pending verifications to watch, each with the known custom code.
  let n = 0;
  await autocannon({
    url: `${url}/graphql`,
    connections: CONNECTIONS,
    amount: SUBSCRIPTIONS,
    requests: [
      {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${ADMIN}` },
        setupRequest: (req: any) => ({ ...req, body: JSON.stringify({ query: START, variables: { i: { serviceSid, to: phone(500_000 + n++), channel: "SMS", customCode: "123456" } } }) }),
      },
    ],
  });
  await drained(url);
  const list = await gql(url, `query($s: ID!) { verifications(serviceSid: $s, first: 1) { nodes { sid } } }`, { s: serviceSid });
  if (!list.verifications.nodes.length) throw new Error("no verifications to watch");
  const sids: { sid: string; to: string }[] = [];
  for (let after: string | null = null; ; ) {
    const page: any = await gql(
      url,
      `query($s: ID!, $a: String) { verifications(serviceSid: $s, first: 100, after: $a, filter: { status: PENDING }) { nodes { sid to } pageInfo { hasNextPage endCursor } } }`,
      { s: serviceSid, a: after },
    );
    sids.push(...page.verifications.nodes);
    if (!page.verifications.pageInfo.hasNextPage || sids.length >= SUBSCRIPTIONS) break;
    after = page.verifications.pageInfo.endCursor;
  }
  const before = await rss(url);
  const perSocket = 100;
  const clients = Array.from({ length: Math.ceil(sids.length / perSocket) }, () =>
    createClient({ url: `${url.replace("http", "ws")}/graphql`, webSocketImpl: WebSocket, connectionParams: { authorization: `Bearer ${ADMIN}` }, lazy: false, retryAttempts: 0 }),
  );
  const ready = new Map<string, true>();
  const approvedAt = new Map<string, number>();
  await Promise.all(
    sids.map(
      ({ sid, to }, i) =>
        new Promise<void>((resolve) => {
          clients[Math.floor(i / perSocket)].subscribe(
            { query: "subscription($sid: ID!) { verificationUpdated(sid: $sid) { status } }", variables: { sid } },
            {
              next: (value: any) => {
                if (!ready.has(sid)) {
                  ready.set(sid, true);
                  resolve();
                }
                if (value.data?.verificationUpdated.status === "APPROVED") approvedAt.set(to, performance.now());
              },
              error: () => resolve(),
              complete: () => {},
            },
          );
        }),
    ),
  );
  const after = await rss(url);
  const respondedAt = new Map<string, number>();
  const sentAt = new Map<string, number>();
  const answeredApproved = new Set<string>();
  // 1,000 checks/s, evenly paced (open loop), each approving one watched verification.
  const checks = await paced({
    url: `${url}/graphql`,
    rate: APPROVALS_PER_SECOND,
    seconds: sids.length / APPROVALS_PER_SECOND,
    headers: { "content-type": "application/json", authorization: `Bearer ${ADMIN}` },
    body: (i) => JSON.stringify({ query: CHECK, variables: { i: { serviceSid, to: sids[i % sids.length].to, code: "123456" } } }),
    onSend: (i) => sentAt.set(sids[i % sids.length].to, performance.now()),
    onResponse: (i, _status, text) => {
      respondedAt.set(sids[i % sids.length].to, performance.now());
      if (text.includes('"APPROVED"')) answeredApproved.add(sids[i % sids.length].to);
    },
  });
  await new Promise((r) => setTimeout(r, 2000));
  const latencies = sids.filter(({ to }) => approvedAt.has(to) && respondedAt.has(to)).map(({ to }) => Math.max(0, (approvedAt.get(to) as number) - (respondedAt.get(to) as number)));
  latencies.sort((a, b) => a - b);
  const pct = (p: number, list = latencies) => list[Math.min(list.length - 1, Math.floor((p / 100) * list.length))] ?? NaN;
  // From the check leaving the client to the event at its subscriber: the whole approval, as a user sees it.
  const endToEnd = sids.filter(({ to }) => approvedAt.has(to) && sentAt.has(to)).map(({ to }) => (approvedAt.get(to) as number) - (sentAt.get(to) as number));
  endToEnd.sort((a, b) => a - b);
  await Promise.all(clients.map((c) => c.dispose()));
  return {
    subscriptions: ready.size,
    rssPerSubKiB: (after - before) / 1024 / Math.max(1, ready.size),
    p50: pct(50),
    p99: pct(99),
    // An approval the check answered whose event never reached its subscriber (a check refused or timed
    // out under load approves nothing, and is counted apart).
    lost: [...answeredApproved].filter((to) => !approvedAt.has(to)).length,
    checksNotApproved: sids.length - answeredApproved.size,
    checkRate: checks.rate,
    checkP99: checks.p99,
    e2eP50: pct(50, endToEnd),
    e2eP99: pct(99, endToEnd),
  };
}

async function delivery(kind: "SMS" | "EMAIL") {
  const peer = kind === "SMS" ? await startSmppServer({ systemId: "bench", password: "pw" }) : await startSmtpServer();
  const env: Record<string, string> =
    kind === "SMS" ? { SMPP_URL: `smpp://bench:pw@127.0.0.1:${peer.port}`, SMS_FROM: "Verigate" } : { SMTP_URL: `smtp://127.0.0.1:${peer.port}`, EMAIL_FROM: "bench@example.com" };
  const url = await gateway(env);
  const serviceSid = (await gql(url, "{ services { nodes { sid } } }")).services.nodes[0].sid;
  await gql(url, `mutation($s: ID!) { updateService(input: { sid: $s, maxSendAttempts: 20, ${UNGUARDED} }) { sid } }`, { s: serviceSid });
  const received = () => ("submitted" in peer ? peer.submitted.length : peer.mails.length);
  let n = 0;
  const t0 = performance.now();
  await autocannon({
    url: `${url}/graphql`,
    connections: CONNECTIONS,
    amount: DELIVERIES,
    requests: [
      {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${ADMIN}` },
        setupRequest: (req: any) => {
          const i = n++;
          const to = kind === "SMS" ? phone(800_000 + i) : `user${i}@example.com`;
          return { ...req, body: JSON.stringify({ query: START, variables: { i: { serviceSid, to, channel: kind } } }) };
        },
      },
    ],
  });
  while (received() < DELIVERIES && performance.now() - t0 < 120_000) await new Promise((r) => setTimeout(r, 20));
  const seconds = (performance.now() - t0) / 1000;
  await peer.close();
  return { kind, delivered: received(), perSecond: received() / seconds };
}

const CHALLENGE = "mutation($i: CreateChallengeInput!) { createChallenge(input: $i) { challenge { sid } passkeyRequestOptions } }";
const ANSWER = "mutation($i: UpdateChallengeInput!) { updateChallenge(input: $i) { status } }";

/** In parallel, at most `width` at a time. */
async function pool<T>(count: number, width: number, task: (i: number) => Promise<T>): Promise<T[]> {
  const results: T[] = new Array(count);
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < count) {
        const i = next++;
        results[i] = await task(i);
      }
    }),
  );
  return results;
}

/**
 * TOTP: createChallenge + updateChallenge(code) pairs, one per factor (a factor accepts a time step once:
 * each was verified with the previous step's code, so the current one is fresh).
 */
async function totpChecks(url: string, serviceSid: string): Promise<Row> {
  const count = smoke ? 100 : 3000;
  // Spares: autocannon may start a few pairs past `amount` as connections finish.
  const factors = await pool(count + 64, 16, async (i) => {
    const created = await gql(url, `mutation($i: CreateFactorInput!) { createFactor(input: $i) { factor { sid } totp { secret } } }`, {
      i: { serviceSid, identity: `bench-totp-${i}`, friendlyName: "bench", factorType: "TOTP" },
    });
    const { sid } = created.createFactor.factor;
    const secret = created.createFactor.totp.secret as string;
    // The previous step's code is one step old when sent, and two (refused) if a step boundary passes on
    // the way: then it is sent again from the new previous step (a factor allows five failures).
    const verify = () => gql(url, `mutation($i: VerifyFactorInput!) { verifyFactor(input: $i) { status } }`, { i: { sid, code: generateSync({ secret, epoch: Math.floor(Date.now() / 1000) - 30 }) } });
    await verify().catch(verify);
    return { sid, secret };
  });
  return load("TOTP challenge + code pairs", url, {
    amount: count * 2,
    body: (n, ctx) => {
      ctx.factor = factors[n % factors.length];
      return JSON.stringify({ query: CHALLENGE, variables: { i: { serviceSid, factorSid: (ctx.factor as { sid: string }).sid } } });
    },
    capture: (body, ctx) => {
      ctx.sid = /"sid":"(YC[0-9a-f]{32})"/.exec(body)?.[1];
    },
    pairs: (ctx) => {
      const factor = ctx.factor as { secret: string };
      return JSON.stringify({ query: ANSWER, variables: { i: { sid: ctx.sid, code: generateSync({ secret: factor.secret }) } } });
    },
  });
}

/** Passkeys: createChallenge + updateChallenge(assertion) pairs from a software authenticator. */
async function passkeyAssertions(url: string, serviceSid: string): Promise<Row> {
  const authenticator = new SoftAuthenticator(new URL(url).hostname === "127.0.0.1" ? "localhost" : new URL(url).hostname, url);
  const created = await gql(url, `mutation($i: CreateFactorInput!) { createFactor(input: $i) { factor { sid } passkeyCreationOptions } }`, {
    i: { serviceSid, identity: "bench-passkey", friendlyName: "bench", factorType: "PASSKEY" },
  });
  await gql(url, `mutation($i: VerifyFactorInput!) { verifyFactor(input: $i) { status } }`, {
    i: { sid: created.createFactor.factor.sid, passkeyResponse: authenticator.register(created.createFactor.passkeyCreationOptions) },
  });
  return load("passkey challenge + assertion pairs", url, {
    body: () => JSON.stringify({ query: CHALLENGE, variables: { i: { serviceSid, identity: "bench-passkey" } } }),
    capture: (body, ctx) => {
      ctx.sid = /"sid":"(YC[0-9a-f]{32})"/.exec(body)?.[1];
      ctx.challenge = /"challenge":"([A-Za-z0-9_-]+)"/.exec(body)?.[1];
    },
    pairs: (ctx) => JSON.stringify({ query: ANSWER, variables: { i: { sid: ctx.sid, passkeyResponse: authenticator.assert(ctx.challenge as string) } } }),
  });
}

/**
 * Number blocks (E.164 without the last four digits: what Fraud Guard judges) of a few US area codes that
 * libphonenumber's full metadata calls valid. Spread over thousands of blocks, a run of starts stays far
 * below Fraud Guard's burst threshold (40 unconverted starts to one block an hour): the measure is the
 * guard's cost, not its verdict.
 */
const PREFIXES = ["415", "650", "212", "312", "617", "206", "303", "512"].flatMap((area) =>
  Array.from({ length: 800 }, (_, i) => `+1${area}${200 + i}`).filter((prefix) => parsePhoneNumberFromString(`${prefix}1234`)?.isValid()),
);
const spread = (n: number) => `${PREFIXES[n % PREFIXES.length]}${String(Math.floor(n / PREFIXES.length) % 10_000).padStart(4, "0")}`;
/** A distinct end-user IP per start, so the per-IP limit is counted (not tripped). */
const deviceIp = (n: number) => `10.${(n >> 16) & 255}.${(n >> 8) & 255}.${n & 255}`;

/**
 * What the protections cost: starts then checks on a service with the default settings (Fraud Guard
 * BASIC; 10 starts per `to` and 50 per IP an hour), back to back with the same requests on a service with
 * Fraud Guard OFF and no rate limits. The CPU per start of the two is the figure to compare.
 */
async function protections(url: string) {
  const rows: { off: Row[]; on: Row[] } = { off: [], on: [] };
  let offset = 1_000_000;
  for (const [key, settings, label] of [
    ["off", UNGUARDED, "Fraud Guard OFF, no rate limits"],
    ["on", "", "default protections: Fraud Guard BASIC, rate limits"],
  ] as const) {
    const created = await gql(url, `mutation { createService(input: { friendlyName: "bench ${key}", customCodeEnabled: true${settings ? `, ${settings}` : ""} }) { sid } }`);
    const serviceSid = created.createService.sid as string;
    const base = offset;
    let started = 0;
    const start = await load(`startVerification (${label})`, url, {
      body: (n) => {
        started = n + 1;
        return JSON.stringify({ query: START, variables: { i: { serviceSid, to: spread(base + n), channel: "SMS", customCode: "123456", deviceIp: deviceIp(base + n) } } });
      },
      settle: () => drained(url),
    });
    const check = await load(`checkVerification (${label})`, url, {
      body: (n) => JSON.stringify({ query: CHECK, variables: { i: { serviceSid, to: spread(base + n), code: "123456" } } }),
      amount: started,
    });
    rows[key].push(start, check);
    offset += started + 1000;
  }
  return rows;
}

/**
 * PostgreSQL rows: starts then checks against gateways on PostgreSQL (TEST_PG_URL, or the local server),
 * in a schema of their own dropped afterwards; one instance, then two on the same schema with Redis
 * between them. Beside req/s: the gateways' CPU per request and PostgreSQL's (every `postgres`
 * process on this machine, and of those the backends serving these gateways, found by application_name).
 */
interface PgRow extends Row {
  instances: number;
  /** µs per request: every postgres process on the machine / the backends of this run's gateways. */
  pgCpu: number;
  pgOwnCpu: number;
}

const PG_URL = process.env.TEST_PG_URL ?? "postgres://postgres@127.0.0.1:5432/test";
const REDIS_URL = process.env.TEST_REDIS_URL ?? "redis://127.0.0.1:6379";

async function postgres(): Promise<PgRow[] | string> {
  const admin = new pg.Client({ connectionString: PG_URL, connectionTimeoutMillis: 3000 });
  try {
    await admin.connect();
  } catch (error) {
    await admin.end().catch(() => {});
    const reason = `PostgreSQL at ${PG_URL.replace(/\/\/[^@/]*@/, "//")} is unreachable (${error instanceof Error ? error.message : error})`;
    if (process.env.CI === "true") throw new Error(`bench: ${reason}; CI runs the PostgreSQL rows`);
    return reason;
  }
  const schema = `bench_${randomBytes(6).toString("hex")}`;
  // Instances on one database share its sealed secrets: one VERIGATE_SECRET for all of them.
  const secret = randomBytes(24).toString("hex");
  const application = `verigate-${schema}`;
  const dbUrl = `${PG_URL}${PG_URL.includes("?") ? "&" : "?"}application_name=${application}`;
  await admin.query(`create schema ${schema}`);
  const started: ChildProcess[] = [];
  try {
    const rows: PgRow[] = [];
    const instanceCounts = smoke ? [1] : [1, 2];
    let offset = 0;
    for (const instances of instanceCounts) {
      const urls: string[] = [];
      // One after the other: the first migrates the schema and creates the default service.
      for (let i = 0; i < instances; i++) {
        urls.push(await gateway({ DATABASE_URL: dbUrl, DATABASE_SCHEMA: schema, VERIGATE_SECRET: secret, ...(instances > 1 ? { REDIS_URL: REDIS_URL } : {}) }));
        started.push(processes.get(urls[i]) as ChildProcess);
      }
      const serviceSid = (await gql(urls[0], "{ services { nodes { sid } } }")).services.nodes[0].sid;
      await gql(urls[0], `mutation($s: ID!) { updateService(input: { sid: $s, customCodeEnabled: true, maxSendAttempts: 20, ${UNGUARDED} }) { sid } }`, { s: serviceSid });
      const request = (query: string, i: Record<string, unknown>) => JSON.stringify({ query, variables: { i: { serviceSid, ...i } } });
      const connections = Math.ceil(CONNECTIONS / instances);
      // Each instance drives its own share of numbers; the counts tell the checks how many were started.
      const measure = async (name: string, make: (k: number, urlOf: string) => Parameters<typeof load>[2]) => {
        const pgBefore = postgresTicks();
        const gwBefore = urls.map((u) => ticksOf(pidOf(u)));
        const results = await Promise.all(urls.map((u, k) => load(name, u, { connections, ...make(k, u) })));
        await Promise.all(urls.map((u) => drained(u)));
        const gwTicks = urls.reduce((sum, u, k) => sum + ticksOf(pidOf(u)) - gwBefore[k], 0);
        const pgAfter = postgresTicks();
        const own = new Set((await admin.query("select pid from pg_stat_activity where application_name = $1", [application])).rows.map((r: { pid: number }) => r.pid));
        const count = results.reduce((sum, r) => sum + (r.count ?? 0), 0);
        return {
          name,
          instances,
          rate: results.reduce((sum, r) => sum + r.rate, 0) / instances,
          p50: Math.max(...results.map((r) => r.p50)),
          p99: Math.max(...results.map((r) => r.p99)),
          errors: results.reduce((sum, r) => sum + r.errors, 0),
          count,
          cpu: usPerRequest(gwTicks, count),
          pgCpu: usPerRequest(ticksBetween(pgBefore, pgAfter), count),
          pgOwnCpu: usPerRequest(ticksBetween(pgBefore, pgAfter, own), count),
        } satisfies PgRow;
      };
      phase(`PostgreSQL, ${instances} instance${instances > 1 ? "s" : ""}`);
      const base = 2_000_000 + offset;
      // Warm up (JIT, connection pools, prepared statements).
      await Promise.all(
        urls.map((u, k) =>
          load("warm-up", u, { connections, seconds: smoke ? 1 : 3, body: (n) => request(START, { to: phone(base + 100_000 * k + 90_000 + n), channel: "SMS", customCode: "123456" }) }),
        ),
      );
      await Promise.all(urls.map((u) => drained(u)));
      const counts = urls.map(() => 0);
      const start = await measure("startVerification", (k) => ({
        body: (n) => ((counts[k] = n + 1), request(START, { to: phone(base + 100_000 * k + n), channel: "SMS", customCode: "123456" })),
      }));
      const check = await measure("checkVerification (right code)", (k) => ({ body: (n) => request(CHECK, { to: phone(base + 100_000 * k + n), code: "123456" }), amount: counts[k] }));
      rows.push(start, check);
      offset += 100_000 * instances;
      for (const u of urls) processes.get(u)?.kill("SIGTERM");
    }
    return rows;
  } finally {
    for (const child of started) if (child.exitCode === null) child.kill("SIGKILL");
    await new Promise((r) => setTimeout(r, 300));
    await admin.query(`drop schema ${schema} cascade`).catch((error) => process.stderr.write(`bench: could not drop schema ${schema}: ${error}\n`));
    await admin.end();
  }
}

const fmt = (x: number, d = 0) => (Number.isFinite(x) ? x.toFixed(d) : "–");

async function main() {
  const floorUrl = await spawnServer(["bench/floor.ts"]);
  const url = await gateway();
  const serviceSid = (await gql(url, "{ services { nodes { sid } } }")).services.nodes[0].sid;
  await gql(url, `mutation($s: ID!) { updateService(input: { sid: $s, customCodeEnabled: true, maxSendAttempts: 20, ${UNGUARDED} }) { sid } }`, { s: serviceSid });
  const body = (query: string, i: Record<string, unknown>) => JSON.stringify({ query, variables: { i } });

  // Warm both up (JIT, prepared statements), then measure.
  await load("warm-up", floorUrl, { body: () => '{"query":"{ __typename }"}', amount: 2000, token: false });
  await load("warm-up", url, { body: (n) => body(START, { serviceSid, to: phone(900_000 + n), channel: "SMS", customCode: "123456" }), amount: 2000 });
  await load("warm-up", url, {
    rest: { path: `/v2/Services/${serviceSid}/Verifications`, ok: 201 },
    body: (n) => form({ To: phone(960_000 + n), Channel: "sms", CustomCode: "123456" }),
    amount: 1000,
  });

  phase("floor");
  const floor = await load("floor: yoga { __typename }", floorUrl, { body: () => '{"query":"{ __typename }"}', token: false });
  await drained(url);
  phase("start");
  let started = 0;
  let backlog = 0;
  // Its CPU includes delivering each start's message (the dev outbox, in the same process): a start's whole cost.
  const start = await load("startVerification", url, {
    body: (n) => ((started = n + 1), body(START, { serviceSid, to: phone(n), channel: "SMS", customCode: "123456" })),
    settle: async () => (backlog = await drained(url)),
  });
  start.note = `its messages were all delivered ${fmt(backlog, 1)} s after the load stopped`;
  phase("check");
  const check = await load("checkVerification (right code)", url, { body: (n) => body(CHECK, { serviceSid, to: phone(n), code: "123456" }), amount: started });
  // The same start and check through the Twilio-compatible REST API (form-encoded, HTTP Basic), as the SDK sends them.
  await drained(url);
  phase("REST start");
  let restStarted = 0;
  let restBacklog = 0;
  const restStart = await load("REST start: POST /v2/Services/{sid}/Verifications", url, {
    rest: { path: `/v2/Services/${serviceSid}/Verifications`, ok: 201 },
    body: (n) => ((restStarted = n + 1), form({ To: phone(700_000 + n), Channel: "sms", CustomCode: "123456" })),
    settle: async () => (restBacklog = await drained(url)),
  });
  restStart.note = `its messages were all delivered ${fmt(restBacklog, 1)} s after the load stopped`;
  phase("REST check");
  const restCheck = await load("REST check: POST /v2/Services/{sid}/VerificationCheck (right code)", url, {
    rest: { path: `/v2/Services/${serviceSid}/VerificationCheck`, ok: 200 },
    body: (n) => form({ To: phone(700_000 + n), Code: "123456" }),
    amount: restStarted,
  });
  phase("pairs");
  const pairs = await load("start + check pairs", url, {
    body: (n, ctx) => {
      ctx.to = phone(200_000 + n);
      return body(START, { serviceSid, to: ctx.to, channel: "SMS", customCode: "123456" });
    },
    pairs: (ctx) => body(CHECK, { serviceSid, to: ctx.to, code: "123456" }),
    settle: () => drained(url),
  });
  const halfRate = Math.max(10, Math.floor(start.rate / 2));
  // Open loop at an even rate (autocannon's overallRate sends each second's quota as one burst).
  phase("half of peak");
  const halfTicks = ticksOf(pidOf(url));
  const halfRun = await paced({
    url: `${url}/graphql`,
    rate: halfRate,
    seconds: DURATION,
    headers: { "content-type": "application/json", authorization: `Bearer ${ADMIN}` },
    body: (n) => body(START, { serviceSid, to: phone(300_000 + n), channel: "SMS", customCode: "123456" }),
  });
  await drained(url);
  const half: Row = {
    name: `startVerification at half of peak (${halfRate}/s, evenly paced)`,
    rate: halfRun.rate,
    p50: halfRun.p50,
    p99: halfRun.p99,
    errors: halfRun.errors,
    count: halfRun.sent,
    cpu: usPerRequest(ticksOf(pidOf(url)) - halfTicks, halfRun.sent),
  };
  phase("protections");
  const guarded = await protections(url);
  phase("totp");
  const totp = await totpChecks(url, serviceSid);
  phase("passkey");
  const passkey = await passkeyAssertions(url, serviceSid);
  phase("fan-out");
  const fan = await fanOut(url, serviceSid);
  phase("sms");
  const sms = await delivery("SMS");
  phase("email");
  const email = await delivery("EMAIL");
  const pgRows = await postgres();

  const rows = [floor, start, check, restStart, restCheck, pairs, half, ...guarded.off, ...guarded.on, totp, passkey];
  const table = [
    "| measure | per second | × floor | CPU µs per request | × floor CPU | p50 ms | p99 ms | errors |",
    "|---|---:|---:|---:|---:|---:|---:|---:|",
    ...rows.map(
      (r) =>
        `| ${r.name} | ${fmt(r.rate)} | ${fmt(r.rate / floor.rate, 2)} | ${fmt(r.cpu ?? Number.NaN)} | ${fmt((r.cpu ?? Number.NaN) / (floor.cpu ?? Number.NaN), 2)} | ${fmt(r.p50, 1)} | ${fmt(r.p99, 1)} | ${r.errors} |`,
    ),
    "",
    "CPU µs per request: the serving process's utime + stime (`/proc/<pid>/stat`) over the measure, divided by the requests answered (by the pairs, for a pairs measure); a start's includes delivering its message (the dev outbox, in the same process). On a shared machine it is steadier than requests per second.",
    "",
    ...rows.filter((r) => r.note).map((r) => `${r.name}: ${r.note}.`),
  ].join("\n");
  const [offStart, offCheck] = guarded.off;
  const [onStart, onCheck] = guarded.on;
  const extraCpu = (on: Row, off: Row) => `${fmt(((on.cpu ?? Number.NaN) / (off.cpu ?? Number.NaN) - 1) * 100)} %`;
  const protectionsLine = `Protections (Fraud Guard BASIC and the default rate limits, against none, back to back): ${extraCpu(onStart, offStart)} CPU per start, ${extraCpu(onCheck, offCheck)} per check.`;
  const embedded = { startVerification: start, "checkVerification (right code)": check } as Record<string, Row>;
  const pgTable =
    typeof pgRows === "string"
      ? `PostgreSQL rows skipped: ${pgRows}.`
      : [
          "| PostgreSQL store | instances | per second per instance | × embedded | gateway CPU µs per request | PostgreSQL CPU µs per request (all / this run's backends) | p50 ms | p99 ms | errors |",
          "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
          ...pgRows.map(
            (r) =>
              `| ${r.name} | ${r.instances} | ${fmt(r.rate)} | ${fmt(r.rate / (embedded[r.name]?.rate ?? Number.NaN), 2)} | ${fmt(r.cpu ?? Number.NaN)} | ${fmt(r.pgCpu)} / ${fmt(r.pgOwnCpu)} | ${fmt(r.p50, 1)} | ${fmt(r.p99, 1)} | ${r.errors} |`,
          ),
          "",
          `PostgreSQL on this machine, a fresh schema per run; two instances share it and Redis, ${Math.ceil(CONNECTIONS / 2)} connections each (one instance: ${CONNECTIONS}, no Redis). × embedded: per instance, against the embedded store's row above. PostgreSQL CPU: utime + stime of every \`postgres\` process (other users of the server included) / of the backends whose application_name is this run's.${smoke ? " The smoke run skips two instances." : ""}`,
        ].join("\n");
  const extra = [
    "| measure | value |",
    "|---|---:|",
    `| live subscriptions held | ${fan.subscriptions} |`,
    `| RSS per idle subscription | ${fmt(fan.rssPerSubKiB, 1)} KiB |`,
    `| approval → subscriber p50 / p99 (checks paced at ${APPROVALS_PER_SECOND}/s; ran at ${fmt(fan.checkRate)}/s, check p99 ${fmt(fan.checkP99, 1)} ms) | ${fmt(fan.p50, 1)} / ${fmt(fan.p99, 1)} ms |`,
    `| check sent → event at its subscriber p50 / p99 | ${fmt(fan.e2eP50, 1)} / ${fmt(fan.e2eP99, 1)} ms |`,
    `| events lost (approved by the check, never at the subscriber) | ${fan.lost} |`,
    `| checks that did not approve (refused or failed under load) | ${fan.checksNotApproved} |`,
    `| SMS through the outbox to a local SMPP server | ${fmt(sms.perSecond)} msg/s (${sms.delivered} sent) |`,
    `| email through the outbox to a local SMTP server | ${fmt(email.perSecond)} msg/s (${email.delivered} sent) |`,
  ].join("\n");
  const report = `# Benchmarks\n\n${smoke ? "**Smoke run** (CI): too short to read numbers from.\n\n" : ""}Run: \`npm run bench\` on ${cpus().length} × ${cpus()[0]?.model ?? "cpu"}, Node ${process.version}, ${new Date().toISOString().slice(0, 10)}. ${CONNECTIONS} connections, ${DURATION} s per measure; the gateway, the floor and the load generator are three processes on one machine.\n\n${table}\n\n${protectionsLine}\n\n${pgTable}\n\n${extra}\n`;
  process.stdout.write(`${report}\n`);
  if (!smoke) {
    // The hand-written analysis below the numbers survives a new run.
    const previous = existsSync("BENCHMARKS.md") ? readFileSync("BENCHMARKS.md", "utf8") : "";
    // Everything from the first hand-written section (a "## " heading: the generated report has none) on.
    const analysis = previous.indexOf("\n## ");
    writeFileSync("BENCHMARKS.md", analysis >= 0 ? `${report}${previous.slice(analysis)}` : report);
  }
  const failed =
    rows.slice(1).some((r) => r.errors > 0) ||
    (typeof pgRows !== "string" && pgRows.some((r) => r.errors > 0)) ||
    fan.lost > 0 ||
    fan.checksNotApproved > 0 ||
    sms.delivered < DELIVERIES ||
    email.delivered < DELIVERIES;
  if (failed) throw new Error("bench: some requests failed, events were lost or messages were not delivered");
}

main()
  .catch((error) => {
    process.stderr.write(`${error instanceof Error ? error.stack : error}\n`);
    process.exitCode = 1;
  })
  .finally(() => {
    for (const c of children) c.kill("SIGKILL");
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
    setTimeout(() => process.exit(), 200).unref();
  });
