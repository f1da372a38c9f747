/**
 * CPU µs per start of the gateway process (utime+stime from /proc, whole process and its main thread),
 * delivery included: measured from before the starts until the outbox has drained (CPU settles).
 * `tsx bench/cpu-start.ts [N] [KEY=VALUE …]` (env for the gateway, e.g. OUTBOX_RUNNER=thread).
 */
import { spawn } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import autocannon from "autocannon";
import Database from "better-sqlite3";

const ADMIN = "vga_bench_admin_key_0123456789abcdef";
const N = Number(process.argv[2] ?? 4000);
const extra = Object.fromEntries(process.argv.slice(3).map((kv) => kv.split("=") as [string, string]));
const TICK = 1e6 / 100; // µs per clock tick (CLK_TCK 100)

const ticks = (file: string) => {
  const f = readFileSync(file, "utf8").split(") ")[1].split(" ");
  return Number(f[11]) + Number(f[12]);
};
const cpu = (pid: number) => {
  let all = 0;
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      all += ticks(`/proc/${pid}/task/${tid}/stat`);
    } catch {}
  }
  return { total: ticks(`/proc/${pid}/stat`), main: ticks(`/proc/${pid}/task/${pid}/stat`), threads: all };
};

const dir = mkdtempSync(join(tmpdir(), "verigate-cpu-"));
const child = spawn(process.execPath, [...(process.env.NODE_ARGS ?? "").split(" ").filter(Boolean), "--import", "tsx", "src/main.ts", "serve"], {
  env: { PATH: process.env.PATH, PORT: "0", DATA_DIR: dir, VERIGATE_ADMIN_KEY: ADMIN, LOG_LEVEL: "warn", ...extra },
  stdio: ["ignore", "pipe", "inherit"],
});
const url: string = await new Promise((resolve, reject) => {
  let out = "";
  child.stdout?.on("data", (d) => {
    out += d;
    const m = /listening on (http:\/\/\S+)\/graphql/.exec(out);
    if (m) resolve(m[1].replace("//localhost:", "//127.0.0.1:"));
  });
  child.once("exit", (code) => reject(new Error(`exited ${code}`)));
});
const pid = child.pid as number;
// SECOND_PROCESS=1: a second gateway on the same data directory delivers (run the first with OUTBOX_RUNNER=off).
const second = process.env.SECOND_PROCESS
  ? spawn(process.execPath, ["--import", "tsx", "src/main.ts", "serve"], {
      env: { PATH: process.env.PATH, PORT: "0", DATA_DIR: dir, VERIGATE_ADMIN_KEY: ADMIN, LOG_LEVEL: "warn", OUTBOX_RUNNER: "inline" },
      stdio: ["ignore", "ignore", "inherit"],
    })
  : null;
if (second) await new Promise((r) => setTimeout(r, 3000));
const cpuOfSecond = () => (second ? ticks(`/proc/${second.pid}/stat`) : 0);
const gql = async (query: string, variables: Record<string, unknown> = {}) => {
  const r = await fetch(`${url}/graphql`, { method: "POST", headers: { "content-type": "application/json", authorization: `Bearer ${ADMIN}` }, body: JSON.stringify({ query, variables }) });
  const b = (await r.json()) as { data?: any; errors?: unknown };
  if (b.errors) throw new Error(JSON.stringify(b.errors));
  return b.data;
};
const serviceSid = (await gql("{ services { nodes { sid } } }")).services.nodes[0].sid;
await gql(`mutation($s: ID!) { updateService(input: { sid: $s, maxSendAttempts: 20, fraudGuard: OFF, rateLimits: { perTo: [], perIp: [], perService: [] } }) { sid } }`, { s: serviceSid });
const phone = (n: number) => `+1415${200 + Math.floor(n / 10_000)}${String(n % 10_000).padStart(4, "0")}`;
const START = "mutation($i: StartVerificationInput!) { startVerification(input: $i) { verification { sid } } }";
let n = 0;
let gqlErrors = 0;
const run = (amount: number) =>
  autocannon({
    url: `${url}/graphql`,
    connections: 32,
    amount,
    requests: [
      {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${ADMIN}` },
        onResponse: (status: number, body: string) => {
          if (status !== 200 || body.includes('"errors"')) {
            if (gqlErrors++ < 2) process.stderr.write(`${body.slice(0, 300)}\n`);
          }
        },
        setupRequest: (req: any) => ({ ...req, body: JSON.stringify({ query: START, variables: { i: { serviceSid, to: phone(n++), channel: "SMS" } } }) }),
      },
    ],
  });
const settle = async () => {
  // The outbox drained: the process's CPU stands still for a second.
  let last = cpu(pid).total + cpuOfSecond();
  for (;;) {
    await new Promise((r) => setTimeout(r, 1500));
    const now = cpu(pid).total + cpuOfSecond();
    if (now - last <= 2) return;
    last = now;
  }
};
await run(1000); // warm-up
await settle();
const before = cpu(pid);
const secondBefore = cpuOfSecond();
const t0 = performance.now();
const result = await run(N);
const requests = cpu(pid);
await settle();
const after = cpu(pid);
const secondAfter = cpuOfSecond();
const per = (a: number, b: number) => Math.round(((b - a) * TICK) / N);
console.log(
  JSON.stringify({
    env: extra,
    N,
    errors: result.errors + result.non2xx + gqlErrors,
    p99ms: result.latency.p99,
    seconds: ((performance.now() - t0) / 1000).toFixed(1),
    totalUsPerStart: per(before.total, after.total),
    duringRequests: per(before.total, requests.total),
    mainThread: per(before.main, after.main),
    ...(second ? { secondProcess: per(secondBefore, secondAfter) } : {}),
  }),
);
child.kill("SIGTERM");
await new Promise((r) => child.once("exit", r));
if (second) {
  second.kill("SIGTERM");
  await new Promise((r) => second.once("exit", r));
}
for (const f of readdirSync(dir).filter((f) => f.endsWith(".db") || f.endsWith(".sqlite"))) {
  const db = new Database(join(dir, f), { readonly: true });
  console.log(f, db.prepare("select (select count(*) from dev_outbox) m, (select count(*) from outbox) j").get(), db.prepare("select status, count(*) n from send_attempts group by status").all());
  db.close();
}
rmSync(dir, { recursive: true, force: true });
