/**
 * `tsx bench/protections.ts [starts] [rounds]`: what Fraud Guard and rate limits cost a start, in CPU µs
 * of the gateway process (utime + stime from /proc/<pid>/stat, outbox drained), with the default
 * protections and with Fraud Guard OFF and no rate limits, alternating in one process. Every start goes
 * to its own number and the numbers spread over 7,000 prefixes, so Fraud Guard judges but never blocks.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import autocannon from "autocannon";

const STARTS = Number(process.argv[2] ?? 3000);
const ROUNDS = Number(process.argv[3] ?? 3);
const ADMIN = "vga_bench_admin_key_0123456789abcdef";
const GUARDED = "fraudGuard: BASIC, rateLimits: { perTo: [{ max: 10, interval: 3600 }], perIp: [{ max: 50, interval: 3600 }], perService: [] }";
const UNGUARDED = "fraudGuard: OFF, rateLimits: { perTo: [], perIp: [], perService: [] }";
const START = "mutation($i: StartVerificationInput!) { startVerification(input: $i) { verification { sid } } }";
const AREAS = [415, 212, 646, 303, 617, 206, 312, 512, 702, 213];
const phone = (n: number) => `+1${AREAS[n % 10]}${200 + (Math.floor(n / 10) % 700)}${String(Math.floor(n / 7000) % 10_000).padStart(4, "0")}`;

const dir = mkdtempSync(join(tmpdir(), "verigate-protections-"));
// PROFILE=<dir>: the gateway writes a CPU profile there when it exits.
const profile = process.env.PROFILE ? ["--cpu-prof", `--cpu-prof-dir=${process.env.PROFILE}`] : [];
const child = spawn(process.execPath, [...profile, "--import", "tsx", "src/main.ts", "serve"], {
  env: {
    PATH: process.env.PATH,
    PORT: "0",
    DATA_DIR: dir,
    VERIGATE_ADMIN_KEY: ADMIN,
    LOG_LEVEL: "warn",
    ...(process.env.DATABASE_URL ? { DATABASE_URL: process.env.DATABASE_URL, DATABASE_SCHEMA: process.env.DATABASE_SCHEMA ?? "public" } : {}),
  },
  stdio: ["ignore", "pipe", "inherit"],
});
const url = await new Promise<string>((resolve, reject) => {
  let out = "";
  child.stdout.on("data", (d) => {
    out += d;
    const match = /listening on (http:\/\/\S+)\/graphql/.exec(out);
    if (match) resolve(match[1].replace("//localhost:", "//127.0.0.1:"));
  });
  child.once("exit", (code) => reject(new Error(`gateway exited with ${code}`)));
});

const cpuTicks = () => {
  const fields = readFileSync(`/proc/${child.pid}/stat`, "utf8").split(") ")[1].split(" ");
  return Number(fields[11]) + Number(fields[12]); // utime, stime (fields 14 and 15)
};
const gql = async (query: string, variables: Record<string, unknown> = {}) => {
  const response = await fetch(`${url}/graphql`, { method: "POST", headers: { "content-type": "application/json", authorization: `Bearer ${ADMIN}` }, body: JSON.stringify({ query, variables }) });
  const body = (await response.json()) as { data?: any; errors?: unknown[] };
  if (body.errors) throw new Error(JSON.stringify(body.errors));
  return body.data;
};
const drained = async () => {
  for (;;) {
    const text = await (await fetch(`${url}/metrics`)).text();
    const jobs = [...text.matchAll(/^verigate_outbox_jobs(?:\{[^}]*\})? (\d+)$/gm)].reduce((sum, m) => sum + Number(m[1]), 0);
    if (jobs === 0) return;
    await new Promise((r) => setTimeout(r, 50));
  }
};

const serviceSid = (await gql("{ services { nodes { sid } } }")).services.nodes[0].sid;
let next = 0;
async function round(settings: string, amount: number): Promise<number> {
  await gql(`mutation($s: ID!) { updateService(input: { sid: $s, customCodeEnabled: true, maxSendAttempts: 20, ${settings} }) { sid } }`, { s: serviceSid });
  await drained();
  const before = cpuTicks();
  let errors = 0;
  await autocannon({
    url: `${url}/graphql`,
    connections: 16,
    amount,
    requests: [
      {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${ADMIN}` },
        setupRequest: (req: any) => ({ ...req, body: JSON.stringify({ query: START, variables: { i: { serviceSid, to: phone(next++), channel: "SMS", customCode: "123456" } } }) }),
        onResponse: (status: number, body: string) => {
          if (status !== 200 || body.includes('"errors"')) {
            if (errors++ === 0) process.stderr.write(`${body.slice(0, 300)}\n`);
          }
        },
      },
    ],
  });
  await drained();
  const ticks = cpuTicks() - before;
  if (errors > 0) process.stderr.write(`${errors} errors\n`);
  return (ticks * 10_000) / amount; // 100 ticks a second
}

await round(GUARDED, 1000);
await round(UNGUARDED, 1000);
const guarded: number[] = [];
const unguarded: number[] = [];
// ONLY=guarded|unguarded: one kind of round (to compare two profiles).
for (let i = 0; i < ROUNDS; i++) {
  if (process.env.ONLY !== "guarded") unguarded.push(await round(UNGUARDED, STARTS));
  if (process.env.ONLY !== "unguarded") guarded.push(await round(GUARDED, STARTS));
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const [g, u] = [median(guarded) ?? 0, median(unguarded) ?? 0];
console.log(`unguarded ${unguarded.map((x) => x.toFixed(0)).join(" ")} µs/start; guarded ${guarded.map((x) => x.toFixed(0)).join(" ")} µs/start`);
console.log(`median: unguarded ${u.toFixed(0)}, guarded ${g.toFixed(0)} µs/start: protections +${(((g - u) / u) * 100).toFixed(0)} %`);
child.kill("SIGTERM");
await new Promise((resolve) => child.once("exit", resolve));
rmSync(dir, { recursive: true, force: true });
