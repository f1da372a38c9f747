/**
 * What the single-purpose CPU scripts (request-cpu, protections, pg-cost, cpu-start) share: a gateway
 * process of their own, its CPU from /proc, an admin GraphQL call and "the outbox is drained".
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import autocannon from "autocannon";

export const ADMIN = "vga_bench_admin_key_0123456789abcdef";
/** µs per clock tick of /proc/<pid>/stat (USER_HZ is 100 on Linux). */
export const TICK_US = 1e6 / 100;
export const START = "mutation($i: StartVerificationInput!) { startVerification(input: $i) { verification { sid } } }";
export const CHECK = "mutation($i: CheckVerificationInput!) { checkVerification(input: $i) { verification { status } } }";
/** The service settings that take protections out of the way (Fraud Guard OFF, no rate limits). */
export const UNGUARDED = "fraudGuard: OFF, rateLimits: { perTo: [], perIp: [], perService: [] }";
/** The account sid the bench's gateways answer the REST API with (HTTP Basic: it and the admin key). */
export const ACCOUNT_SID = `AC${"0123456789abcdef".repeat(2)}`;
/** Twilio's REST API as its SDKs call it: HTTP Basic, form-encoded bodies. */
export const REST_HEADERS = {
  "content-type": "application/x-www-form-urlencoded",
  authorization: `Basic ${Buffer.from(`${ACCOUNT_SID}:${ADMIN}`).toString("base64")}`,
};
/** A Twilio form body. */
export const form = (params: Record<string, string>) => new URLSearchParams(params).toString();
/** A distinct US number per n. */
export const phone = (n: number) => `+1415${200 + Math.floor(n / 10_000)}${String(n % 10_000).padStart(4, "0")}`;

/** utime + stime of a process or thread, in clock ticks (fields 14 and 15 of its stat file). */
export function cpuTicks(stat: number | string): number {
  const fields = readFileSync(typeof stat === "number" ? `/proc/${stat}/stat` : stat, "utf8")
    .split(") ")[1]
    .split(" ");
  return Number(fields[11]) + Number(fields[12]);
}

export interface Gateway {
  url: string;
  child: ChildProcess;
  pid: number;
  dir: string;
  /** An admin GraphQL call; throws on errors. */
  gql(query: string, variables?: Record<string, unknown>): Promise<any>;
  /** Resolves once the outbox holds no job (every message delivered). */
  drained(): Promise<void>;
  close(): Promise<void>;
}

/** Spawns `src/main.ts serve` on a fresh data directory (`env` adds to it; `nodeArgs` before the script). */
export async function spawnGateway(o: { env?: Record<string, string>; nodeArgs?: string[]; dir?: string } = {}): Promise<Gateway> {
  const dir = o.dir ?? mkdtempSync(join(tmpdir(), "verigate-bench-"));
  const child = spawn(process.execPath, [...(o.nodeArgs ?? []), "--import", "tsx", "src/main.ts", "serve"], {
    env: { PATH: process.env.PATH, PORT: "0", DATA_DIR: dir, VERIGATE_ADMIN_KEY: ADMIN, LOG_LEVEL: "warn", ...o.env },
    stdio: ["ignore", "pipe", "inherit"],
  });
  const url = await new Promise<string>((resolve, reject) => {
    let out = "";
    child.stdout?.on("data", (d) => {
      out += d;
      // The banner names localhost for people; dial the address it listens on.
      const match = /listening on (http:\/\/\S+)\/graphql/.exec(out);
      if (match) resolve(match[1].replace("//localhost:", "//127.0.0.1:"));
    });
    child.once("exit", (code) => reject(new Error(`gateway exited with ${code}`)));
  });
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
  const close = async () => {
    if (child.exitCode === null) {
      child.kill("SIGTERM");
      await new Promise((resolve) => child.once("exit", resolve));
    }
    if (!o.dir) rmSync(dir, { recursive: true, force: true });
  };
  return { url, child, pid: child.pid as number, dir, gql, drained, close };
}

/**
 * Sends `amount` admin POSTs to `url`/graphql over `connections` connections, the n-th with `body(n)`;
 * answers how many were not a 200 without errors (the first one's body goes to stderr).
 */
export async function drive(url: string, amount: number, body: (n: number) => string, connections = 16): Promise<number> {
  let n = 0;
  let errors = 0;
  await autocannon({
    url: `${url}/graphql`,
    connections,
    amount,
    requests: [
      {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${ADMIN}` },
        setupRequest: (req: any) => ({ ...req, body: body(n++) }),
        onResponse: (status: number, text: string) => {
          if (status !== 200 || text.includes('"errors"')) {
            if (errors++ === 0) process.stderr.write(`${text.slice(0, 300)}\n`);
          }
        },
      },
    ],
  });
  return errors;
}
