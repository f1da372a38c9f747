import { type ChildProcess, execFile, spawn } from "node:child_process";
import { chownSync, existsSync, mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";

/**
 * Private PostgreSQL and Redis processes that a fault test starts, stops and restarts at will, on free
 * ports of their own, so the shared services other suites use are never disturbed.
 */

const run = promisify(execFile);
const PG_BIN = ["/usr/lib/postgresql/15/bin", "/usr/local/bin"].find((dir) => existsSync(join(dir, "pg_ctl")) && existsSync(join(dir, "initdb")));
const REDIS_SERVER = ["/usr/bin/redis-server", "/usr/local/bin/redis-server"].find((file) => existsSync(file));

/** Why the fault tests cannot run here, or null when every binary they need is installed. */
export function missingDependencyBinaries(): string | null {
  const missing = [!PG_BIN && "initdb/pg_ctl (PostgreSQL 15 server)", !REDIS_SERVER && "redis-server"].filter(Boolean);
  return missing.length > 0 ? `not installed: ${missing.join(", ")}` : null;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

export interface PrivatePostgres {
  port: number;
  /** A connection URL for `database` on this cluster (trust authentication, user postgres). */
  url(database?: string): string;
  /** A fast shutdown: every connection is terminated, new ones are refused until start(). */
  stop(): Promise<void>;
  start(): Promise<void>;
  /** Stops the cluster for good and removes its files. */
  destroy(): Promise<void>;
}

/** initdb + pg_ctl on a temp dir. PostgreSQL refuses to run as root: then it runs as the `postgres` user. */
export async function startPrivatePostgres(): Promise<PrivatePostgres> {
  if (!PG_BIN) throw new Error("PostgreSQL server binaries not found");
  const dir = mkdtempSync(join(tmpdir(), "verigate-pg-"));
  const asRoot = process.getuid?.() === 0;
  if (asRoot) {
    const [uid, gid] = await Promise.all([run("id", ["-u", "postgres"]), run("id", ["-g", "postgres"])]);
    chownSync(dir, Number(uid.stdout), Number(gid.stdout));
  }
  const pg = (tool: string, args: string[]) => (asRoot ? run("runuser", ["-u", "postgres", "--", join(PG_BIN, tool), ...args]) : run(join(PG_BIN, tool), args));
  const data = join(dir, "data");
  const port = await freePort();
  await pg("initdb", ["-D", data, "-U", "postgres", "-A", "trust", "--no-sync", "--no-instructions", "-E", "UTF8", "--locale=C"]);
  // Durability is not under test; fsync off keeps the cluster quick on a busy machine.
  const options = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off`;
  const start = async () => {
    await pg("pg_ctl", ["start", "-w", "-t", "30", "-D", data, "-l", join(dir, "log"), "-o", options]);
  };
  const stop = async () => {
    await pg("pg_ctl", ["stop", "-w", "-m", "fast", "-D", data]);
  };
  await start();
  return {
    port,
    url: (database = "postgres") => `postgres://postgres@127.0.0.1:${port}/${database}`,
    start,
    stop,
    async destroy() {
      await pg("pg_ctl", ["stop", "-w", "-m", "immediate", "-D", data]).catch(() => {});
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface PrivateRedis {
  port: number;
  url: string;
  running(): boolean;
  start(): Promise<void>;
  stop(): Promise<void>;
}

/** A redis-server without persistence on a free port; not started until start() is called. */
export async function privateRedis(): Promise<PrivateRedis> {
  if (!REDIS_SERVER) throw new Error("redis-server not found");
  const server = REDIS_SERVER;
  const port = await freePort();
  let child: ChildProcess | null = null;
  const exited = new Map<ChildProcess, Promise<void>>();
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    running: () => child !== null,
    async start() {
      if (child) return;
      const started = spawn(server, ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"], { stdio: ["ignore", "pipe", "inherit"] });
      exited.set(started, new Promise((resolve) => started.once("exit", () => resolve())));
      child = started;
      let out = "";
      await new Promise<void>((resolve, reject) => {
        started.stdout?.on("data", (chunk) => {
          out += chunk;
          if (out.includes("Ready to accept connections")) resolve();
        });
        started.once("exit", (code) => reject(new Error(`redis-server exited (${code}): ${out.slice(-500)}`)));
      });
    },
    async stop() {
      const stopping = child;
      if (!stopping) return;
      child = null;
      stopping.kill("SIGKILL");
      await exited.get(stopping);
    },
  };
}
