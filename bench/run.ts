/**
 * `npm run bench` (add `-- --smoke` for CI's short run): the gateway and a bare-yoga floor each run in
 * their own process; this process is the load generator (autocannon, graphql-ws clients) on loopback.
 * Results are printed and written to BENCHMARKS.md. Ratios to the floor are measured in the same run.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";
import autocannon, { type Result } from "autocannon";
import { createClient } from "graphql-ws";
import WebSocket from "ws";
import { generateSync } from "otplib";
import { startSmppServer, startSmtpServer } from "../test/support/peers.js";
import { SoftAuthenticator } from "./authenticator.js";
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
  return spawnServer(["src/main.ts", "serve"], { PORT: "0", DATA_DIR: dir, VERIGATE_ADMIN_KEY: ADMIN, LOG_LEVEL: "warn", ...caps, ...extraEnv });
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
  note?: string;
}

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
  },
): Promise<Row> {
  let n = 0;
  let errors = 0;
  const headers = { "content-type": "application/json", ...(options.token === false ? {} : { authorization: `Bearer ${ADMIN}` }) };
  const onResponse = (status: number, body: string) => {
    if (status !== 200 || body.includes('"errors"')) {
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
    url: `${url}/graphql`,
    connections: CONNECTIONS,
    ...(options.amount ? { amount: options.amount } : { duration: DURATION }),
    requests,
  });
  const rate = options.pairs ? result.requests.average / 2 : result.requests.average;
  return { name, rate, p50: result.latency.p50, p99: result.latency.p99, errors: errors + result.non2xx + result.errors };
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
  // 1,000 checks/s, evenly paced (open loop), each approving one watched verification.
  const checks = await paced({
    url: `${url}/graphql`,
    rate: APPROVALS_PER_SECOND,
    seconds: sids.length / APPROVALS_PER_SECOND,
    headers: { "content-type": "application/json", authorization: `Bearer ${ADMIN}` },
    body: (i) => JSON.stringify({ query: CHECK, variables: { i: { serviceSid, to: sids[i % sids.length].to, code: "123456" } } }),
    onSend: (i) => sentAt.set(sids[i % sids.length].to, performance.now()),
    onResponse: (i) => respondedAt.set(sids[i % sids.length].to, performance.now()),
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
    lost: sids.length - approvedAt.size,
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

  phase("floor");
  const floor = await load("floor: yoga { __typename }", floorUrl, { body: () => '{"query":"{ __typename }"}', token: false });
  await drained(url);
  phase("start");
  let started = 0;
  const start = await load("startVerification", url, { body: (n) => ((started = n + 1), body(START, { serviceSid, to: phone(n), channel: "SMS", customCode: "123456" })) });
  const backlog = await drained(url);
  start.note = `its messages were all delivered ${fmt(backlog, 1)} s after the load stopped`;
  phase("check");
  const check = await load("checkVerification (right code)", url, { body: (n) => body(CHECK, { serviceSid, to: phone(n), code: "123456" }), amount: started });
  phase("pairs");
  const pairs = await load("start + check pairs", url, {
    body: (n, ctx) => {
      ctx.to = phone(200_000 + n);
      return body(START, { serviceSid, to: ctx.to, channel: "SMS", customCode: "123456" });
    },
    pairs: (ctx) => body(CHECK, { serviceSid, to: ctx.to, code: "123456" }),
  });
  await drained(url);
  const halfRate = Math.max(10, Math.floor(start.rate / 2));
  // Open loop at an even rate (autocannon's overallRate sends each second's quota as one burst).
  phase("half of peak");
  const halfRun = await paced({
    url: `${url}/graphql`,
    rate: halfRate,
    seconds: DURATION,
    headers: { "content-type": "application/json", authorization: `Bearer ${ADMIN}` },
    body: (n) => body(START, { serviceSid, to: phone(300_000 + n), channel: "SMS", customCode: "123456" }),
  });
  const half: Row = { name: `startVerification at half of peak (${halfRate}/s, evenly paced)`, rate: halfRun.rate, p50: halfRun.p50, p99: halfRun.p99, errors: halfRun.errors };
  await drained(url);
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

  const rows = [floor, start, check, pairs, half, totp, passkey];
  const table = [
    "| measure | per second | × floor | p50 ms | p99 ms | errors |",
    "|---|---:|---:|---:|---:|---:|",
    ...rows.map((r) => `| ${r.name} | ${fmt(r.rate)} | ${fmt(r.rate / floor.rate, 2)} | ${fmt(r.p50, 1)} | ${fmt(r.p99, 1)} | ${r.errors} |`),
    "",
    ...rows.filter((r) => r.note).map((r) => `${r.name}: ${r.note}.`),
  ].join("\n");
  const extra = [
    "| measure | value |",
    "|---|---:|",
    `| live subscriptions held | ${fan.subscriptions} |`,
    `| RSS per idle subscription | ${fmt(fan.rssPerSubKiB, 1)} KiB |`,
    `| approval → subscriber p50 / p99 (checks paced at ${APPROVALS_PER_SECOND}/s; ran at ${fmt(fan.checkRate)}/s, check p99 ${fmt(fan.checkP99, 1)} ms) | ${fmt(fan.p50, 1)} / ${fmt(fan.p99, 1)} ms |`,
    `| check sent → event at its subscriber p50 / p99 | ${fmt(fan.e2eP50, 1)} / ${fmt(fan.e2eP99, 1)} ms |`,
    `| events lost | ${fan.lost} |`,
    `| SMS through the outbox to a local SMPP server | ${fmt(sms.perSecond)} msg/s (${sms.delivered} sent) |`,
    `| email through the outbox to a local SMTP server | ${fmt(email.perSecond)} msg/s (${email.delivered} sent) |`,
  ].join("\n");
  const report = `# Benchmarks\n\n${smoke ? "**Smoke run** (CI): too short to read numbers from.\n\n" : ""}Run: \`npm run bench\` on ${cpus().length} × ${cpus()[0]?.model ?? "cpu"}, Node ${process.version}, ${new Date().toISOString().slice(0, 10)}. ${CONNECTIONS} connections, ${DURATION} s per measure; the gateway, the floor and the load generator are three processes on one machine.\n\n${table}\n\n${extra}\n`;
  process.stdout.write(`${report}\n`);
  if (!smoke) {
    // The hand-written analysis below the numbers survives a new run.
    const previous = existsSync("BENCHMARKS.md") ? readFileSync("BENCHMARKS.md", "utf8") : "";
    const analysis = previous.indexOf("\n## Targets");
    writeFileSync("BENCHMARKS.md", analysis >= 0 ? `${report}${previous.slice(analysis)}` : report);
  }
  const failed = rows.slice(1).some((r) => r.errors > 0) || fan.lost > 0 || sms.delivered < DELIVERIES || email.delivered < DELIVERIES;
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
