import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";

/** Runs `src/main.ts` as a newcomer's `npm start` would, in its own process. */
function serve(env: Record<string, string>) {
  const child = spawn(process.execPath, ["--import", "tsx", "src/main.ts", "serve"], {
    env: { PATH: process.env.PATH, PORT: "0", LOG_LEVEL: "warn", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  let err = "";
  child.stdout.on("data", (d) => (out += d));
  child.stderr.on("data", (d) => (err += d));
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  const listening = new Promise<string>((resolve, reject) => {
    const timer = setInterval(() => {
      const match = /listening on (http:\/\/\S+)\/graphql/.exec(out);
      if (match) {
        clearInterval(timer);
        resolve(match[1]);
      }
    }, 20);
    void exited.then((code) => {
      clearInterval(timer);
      reject(new Error(`exited with ${code}: ${err}`));
    });
  });
  // A run that is meant to fail never listens; that rejection is expected, not unhandled.
  listening.catch(() => {});
  return { child, listening, exited, output: () => out, errors: () => err };
}

const children: ChildProcess[] = [];
const dirs: string[] = [];
afterEach(() => {
  for (const c of children.splice(0)) c.kill("SIGKILL");
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
const dataDir = () => {
  const dir = mkdtempSync(join(tmpdir(), "verigate-start-"));
  dirs.push(dir);
  return dir;
};

describe("start-up", () => {
  it("a fresh start prints the admin key once, creates Default, says where messages go, and serves GraphiQL, /health and /metrics", async () => {
    const dir = dataDir();
    const first = serve({ DATA_DIR: dir });
    children.push(first.child);
    const url = await first.listening;
    const key = /^Admin key: (vga_\S+)$/m.exec(first.output())?.[1];
    expect(key).toBeTruthy();
    expect(first.output()).toMatch(/delivers into the dev outbox/);
    expect(statSync(join(dir, "verigate.db")).isFile()).toBe(true);
    expect(statSync(join(dir, "secret")).mode & 0o077).toBe(0);

    expect(await (await fetch(`${url}/health`)).json()).toEqual({ status: "ok", store: "ok" });
    const metrics = await (await fetch(`${url}/metrics`)).text();
    expect(metrics).toMatch(/verigate_process_cpu_seconds_total/);
    expect(metrics).toMatch(/# TYPE verigate_verifications_started_total counter/);

    const page = await fetch(`${url}/graphql`, { headers: { accept: "text/html" } });
    const html = await page.text();
    expect(page.headers.get("content-type")).toContain("text/html");
    expect(html).toContain("Verigate GraphiQL");
    // Offline: no script or stylesheet comes from another host.
    expect(html).not.toMatch(/<(script|link)[^>]+(src|href)="https?:\/\//i);

    const services = await fetch(`${url}/graphql`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${key}` },
      body: JSON.stringify({ query: "{ services { nodes { friendlyName } } }" }),
    });
    expect((await services.json()).data.services.nodes).toEqual([{ friendlyName: "Default" }]);
    first.child.kill("SIGTERM");
    expect(await first.exited).toBe(0);

    // A second start on the same store prints no key and keeps the same data.
    const second = serve({ DATA_DIR: dir });
    children.push(second.child);
    const url2 = await second.listening;
    expect(second.output()).not.toMatch(/Admin key:/);
    const again = await fetch(`${url2}/graphql`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${key}` },
      body: JSON.stringify({ query: "{ services { nodes { friendlyName } } }" }),
    });
    expect((await again.json()).data.services.nodes).toEqual([{ friendlyName: "Default" }]);
  });

  it("VERIGATE_ADMIN_KEY replaces the generated key", async () => {
    const run = serve({ DATA_DIR: dataDir(), VERIGATE_ADMIN_KEY: "vga_my_own_admin_key_for_tests_123" });
    children.push(run.child);
    const url = await run.listening;
    expect(run.output()).not.toMatch(/Admin key:/);
    const r = await fetch(`${url}/graphql`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: "Bearer vga_my_own_admin_key_for_tests_123" },
      body: JSON.stringify({ query: "{ services { nodes { friendlyName } } }" }),
    });
    expect((await r.json()).data.services.nodes).toHaveLength(1);
  });

  it("a bad environment stops start-up with every problem, each naming its variable", async () => {
    const run = serve({ DATA_DIR: dataDir(), PORT: "99999", VERIGATE_SECRET: "short", LOG_LEVEL: "loud" });
    children.push(run.child);
    expect(await run.exited).toBe(1);
    expect(run.errors()).toMatch(/PORT/);
    expect(run.errors()).toMatch(/VERIGATE_SECRET/);
    expect(run.errors()).toMatch(/LOG_LEVEL/);
  });

  it("an incomplete or malformed transport configuration stops start-up naming the variable", async () => {
    const run = serve({ DATA_DIR: dataDir(), SMTP_URL: "smtp://127.0.0.1:2525", SMPP_URL: "smpp://nopassword@127.0.0.1", HTTP_SMS_URL: "http://127.0.0.1:9/sms" });
    children.push(run.child);
    expect(await run.exited).toBe(1);
    expect(run.errors()).toMatch(/SMPP_URL: must be smpp:\/\/system_id:password@host:port/);
    const second = serve({ DATA_DIR: dataDir(), SMTP_URL: "smtp://127.0.0.1:2525", HTTP_SMS_URL: "http://127.0.0.1:9/sms" });
    children.push(second.child);
    expect(await second.exited).toBe(1);
    expect(second.errors()).toMatch(/EMAIL_FROM: required with SMTP_URL/);
    expect(second.errors()).toMatch(/HTTP_PROVIDER_SECRET: required with HTTP_SMS_URL/);
  });

  it("NODE_ENV=production starts once every enabled channel has a real transport, and has no devOutbox", async () => {
    const run = serve({
      DATA_DIR: dataDir(),
      NODE_ENV: "production",
      VERIGATE_ADMIN_KEY: "vga_my_own_admin_key_for_tests_123",
      SMTP_URL: "smtp://127.0.0.1:9",
      EMAIL_FROM: "no-reply@example.com",
      SMPP_URL: "smpp://u:p@127.0.0.1:9",
      SMS_FROM: "Verigate",
      HTTP_CALL_URL: "http://127.0.0.1:9/call",
      HTTP_PROVIDER_SECRET: `whsec_${Buffer.from("verigate-test-provider-secret-32b!").toString("base64")}`,
      WHATSAPP_ACCESS_TOKEN: "token",
      WHATSAPP_PHONE_NUMBER_ID: "123",
    });
    children.push(run.child);
    const url = await run.listening;
    expect(run.output()).not.toMatch(/dev outbox/);
    const r = await fetch(`${url}/graphql`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: "Bearer vga_my_own_admin_key_for_tests_123" },
      body: JSON.stringify({ query: "{ devOutbox { code } }" }),
    });
    expect((await r.json()).errors[0].extensions.code).toBe("GRAPHQL_VALIDATION_FAILED");
  });

  it("NODE_ENV=production refuses to start on the dev outbox", async () => {
    const run = serve({ DATA_DIR: dataDir(), NODE_ENV: "production" });
    children.push(run.child);
    expect(await run.exited).toBe(1);
    expect(run.errors()).toMatch(/production needs a real provider/);
  });

  it("the README shows the commands a newcomer runs", () => {
    const readme = readFileSync("README.md", "utf8");
    expect(readme).toContain("npm install && npm start");
    expect(readme).toContain("npm test");
    expect(readme).toMatch(/## Architecture/);
  });
});
