/**
 * CPU µs per request of the gateway process (utime + stime from /proc/<pid>/stat), for the request path:
 * `tsx bench/request-cpu.ts [N]` spawns `src/main.ts serve` (unguarded service, custom codes), warms up,
 * then drives N starts, N checks and N `{ __typename }` (with the admin key) with autocannon and prints the
 * gateway's CPU per request for each.
 * FAST_PATH is passed to the gateway; CPU_PROF=<dir> runs it under `node --cpu-prof` (the profile is written there).
 */
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import autocannon from "autocannon";

const N = Number(process.argv[2] ?? 3000);
const ADMIN = "vga_bench_admin_key_0123456789abcdef";
const START = "mutation($i: StartVerificationInput!) { startVerification(input: $i) { verification { sid } } }";
const CHECK = "mutation($i: CheckVerificationInput!) { checkVerification(input: $i) { verification { status } } }";
const phone = (n: number) => `+1415${200 + Math.floor(n / 10_000)}${String(n % 10_000).padStart(4, "0")}`;
const TICK = 1e6 / 100; // µs per clock tick (USER_HZ 100)

const dir = mkdtempSync(join(tmpdir(), "verigate-cpu-"));
const extra = Object.fromEntries(Object.entries(process.env).filter(([k]) => k === "FAST_PATH"));
const profile = process.env.CPU_PROF ? ["--cpu-prof", "--cpu-prof-dir", process.env.CPU_PROF] : [];
const child = spawn(process.execPath, [...profile, "--import", "tsx", "src/main.ts", "serve"], {
  env: { PATH: process.env.PATH, PORT: "0", DATA_DIR: dir, VERIGATE_ADMIN_KEY: ADMIN, LOG_LEVEL: "warn", ...extra } as Record<string, string>,
  stdio: ["ignore", "pipe", "inherit"],
});
const url = await new Promise<string>((resolve, reject) => {
  let out = "";
  child.stdout?.on("data", (d) => {
    out += d;
    const match = /listening on (http:\/\/\S+)\/graphql/.exec(out);
    if (match) resolve(match[1].replace("//localhost:", "//127.0.0.1:"));
  });
  child.once("exit", (code) => reject(new Error(`gateway exited with ${code}`)));
});
const cpu = () => {
  const fields = readFileSync(`/proc/${child.pid}/stat`, "utf8").split(") ")[1].split(" ");
  return (Number(fields[11]) + Number(fields[12])) * TICK;
};
const gql = async (query: string, variables: Record<string, unknown> = {}) => {
  const response = await fetch(`${url}/graphql`, { method: "POST", headers: { "content-type": "application/json", authorization: `Bearer ${ADMIN}` }, body: JSON.stringify({ query, variables }) });
  const body = (await response.json()) as { data?: any; errors?: unknown[] };
  if (body.errors) throw new Error(JSON.stringify(body.errors));
  return body.data;
};
const serviceSid = (await gql("{ services { nodes { sid } } }")).services.nodes[0].sid;
await gql(`mutation($s: ID!) { updateService(input: { sid: $s, customCodeEnabled: true, maxSendAttempts: 20, fraudGuard: OFF, rateLimits: { perTo: [], perIp: [], perService: [] } }) { sid } }`, {
  s: serviceSid,
});

async function drive(amount: number, body: (n: number) => string): Promise<{ errors: number }> {
  let n = 0;
  let errors = 0;
  await autocannon({
    url: `${url}/graphql`,
    connections: 16,
    amount,
    requests: [
      {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${ADMIN}` },
        setupRequest: (req: any) => ({ ...req, body: body(n++) }),
        onResponse: (status: number, text: string) => {
          if (status !== 200 || text.includes('"errors"')) errors++;
        },
      },
    ],
  });
  return { errors };
}
const startBody = (base: number) => (n: number) => JSON.stringify({ query: START, variables: { i: { serviceSid, to: phone(base + n), channel: "SMS", customCode: "123456" } } });
const checkBody = (base: number) => (n: number) => JSON.stringify({ query: CHECK, variables: { i: { serviceSid, to: phone(base + n), code: "123456" } } });

await drive(2000, startBody(900_000));
await drive(2000, checkBody(900_000));
await new Promise((r) => setTimeout(r, 500));
let before = cpu();
const started = await drive(N, startBody(0));
await new Promise((r) => setTimeout(r, 300));
const startCpu = (cpu() - before) / N;
before = cpu();
const checked = await drive(N, checkBody(0));
await new Promise((r) => setTimeout(r, 300));
const checkCpu = (cpu() - before) / N;
before = cpu();
await drive(N, () => '{"query":"{ __typename }"}');
await new Promise((r) => setTimeout(r, 300));
const typenameCpu = (cpu() - before) / N;
console.log(
  JSON.stringify({
    fastPath: extra.FAST_PATH ?? "default",
    N,
    startUs: Math.round(startCpu),
    checkUs: Math.round(checkCpu),
    typenameUs: Math.round(typenameCpu),
    startErrors: started.errors,
    checkErrors: checked.errors,
  }),
);
child.kill("SIGINT");
await new Promise((r) => child.once("exit", r));
rmSync(dir, { recursive: true, force: true });
