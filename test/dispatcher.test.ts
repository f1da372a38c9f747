import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterEach, describe, expect, it, vi } from "vitest";
import { ManualClock } from "../src/domain/clock.js";
import { ADMIN_KEY, START, type TestGateway, startGateway, subscribeWs } from "./support/gateway.js";
import { HTTP_SECRET, httpPeers } from "./support/peers.js";
import { listeningUrl } from "./support/banner.js";

let gw: TestGateway | undefined;
const peers = httpPeers();
const children: ChildProcess[] = [];
afterEach(async () => {
  for (const c of children.splice(0)) c.kill("SIGKILL");
  await gw?.close();
  await peers.closeAll();
  gw = undefined;
});
const peer = peers.start;
const ATTEMPTS = `query($sid: ID!) { verification(sid: $sid) { sendCodeAttempts { status channel errorCode } } }`;

describe("outbox dispatcher", () => {
  it("retries a failing provider with growing backoff, with the same idempotency key, until it succeeds", async () => {
    const clock = new ManualClock(Date.now());
    const vendor = await peer((_r, i) => (i < 2 ? { status: 500 } : { status: 200, body: { messageId: "ok" } }));
    gw = await startGateway({ clock, env: { HTTP_SMS_URL: vendor.url, HTTP_PROVIDER_SECRET: HTTP_SECRET } });
    const started = await gw.gql(START, { input: { serviceSid: gw.defaultServiceSid, to: "+14155559001", channel: "SMS" } });
    const sid = started.data?.startVerification.verification.sid;
    await gw.app.dispatcher.idle();
    expect(vendor.requests).toHaveLength(1);
    // Not due again before its backoff (≥ 0.5 s after the first try) has passed.
    clock.advance(400);
    await gw.app.dispatcher.idle();
    expect(vendor.requests).toHaveLength(1);
    clock.advance(600);
    await gw.app.dispatcher.idle();
    expect(vendor.requests).toHaveLength(2);
    expect((await gw.gql(ATTEMPTS, { sid })).data?.verification.sendCodeAttempts[0].status).toBe("QUEUED");
    // The second backoff is longer (1–2 s).
    clock.advance(900);
    await gw.app.dispatcher.idle();
    expect(vendor.requests).toHaveLength(2);
    clock.advance(1100);
    await gw.app.dispatcher.idle();
    expect(vendor.requests).toHaveLength(3);
    expect(new Set(vendor.requests.map((r) => r.headers["idempotency-key"])).size).toBe(1);
    expect((await gw.gql(ATTEMPTS, { sid })).data?.verification.sendCodeAttempts[0].status).toBe("SENT");
  });

  it("marks the attempt FAILED, with the reason, when retries run out; subscribers see it", async () => {
    const clock = new ManualClock(Date.now());
    const vendor = await peer(() => ({ status: 502 }));
    gw = await startGateway({ clock, env: { HTTP_SMS_URL: vendor.url, HTTP_PROVIDER_SECRET: HTTP_SECRET, OUTBOX_MAX_TRIES: "3" } });
    const started = await gw.gql(START, { input: { serviceSid: gw.defaultServiceSid, to: "+14155559002", channel: "SMS" } });
    const sid = started.data?.startVerification.verification.sid;
    const updates = subscribeWs(gw.wsClient(), `subscription($sid: ID!) { verificationUpdated(sid: $sid) { sendCodeAttempts { status errorCode } } }`, { sid });
    for (let i = 0; i < 3; i++) {
      await gw.app.dispatcher.idle();
      clock.advance(60_000);
    }
    await gw.app.dispatcher.idle();
    expect(vendor.requests).toHaveLength(3);
    const attempt = (await gw.gql(ATTEMPTS, { sid })).data?.verification.sendCodeAttempts[0];
    expect(attempt.status).toBe("FAILED");
    expect(attempt.errorCode).toMatch(/502/);
    await vi.waitFor(() => expect(updates.values.at(-1)?.verificationUpdated.sendCodeAttempts[0].status).toBe("FAILED"));
    expect(await gw.app.store.pendingJobCount()).toBe(0);
    expect((await gw.app.store.listEvents(sid)).map((e) => e.type)).toContain("delivery.failed");
  });

  it("a hanging provider does not hold back other channels", async () => {
    let release: () => void = () => {};
    const hanging = await peer(() => new Promise((resolve) => (release = () => resolve({ status: 200, body: { messageId: "late" } }))));
    const sms = await peer(() => ({ status: 200, body: { messageId: "fast" } }));
    gw = await startGateway({ env: { HTTP_CALL_URL: hanging.url, HTTP_SMS_URL: sms.url, HTTP_PROVIDER_SECRET: HTTP_SECRET } });
    const call = await gw.gql(START, { input: { serviceSid: gw.defaultServiceSid, to: "+14155559003", channel: "CALL" } });
    await hanging.until(1);
    const text = await gw.gql(START, { input: { serviceSid: gw.defaultServiceSid, to: "+14155559004", channel: "SMS" } });
    await sms.until(1);
    await vi.waitFor(async () => expect((await gw!.gql(ATTEMPTS, { sid: text.data?.startVerification.verification.sid })).data?.verification.sendCodeAttempts[0].status).toBe("SENT"));
    // The call is still waiting on its provider.
    expect((await gw.gql(ATTEMPTS, { sid: call.data?.startVerification.verification.sid })).data?.verification.sendCodeAttempts[0].status).toBe("QUEUED");
    release();
    await vi.waitFor(async () => expect((await gw!.gql(ATTEMPTS, { sid: call.data?.startVerification.verification.sid })).data?.verification.sendCodeAttempts[0].status).toBe("SENT"));
  });

  it("a provider that does not answer within PROVIDER_TIMEOUT_MS counts as a failed try and is retried", async () => {
    const clock = new ManualClock(Date.now());
    const vendor = await peer((_r, i) => (i === 0 ? new Promise(() => {}) : { status: 200, body: { messageId: "second" } }));
    gw = await startGateway({ clock, env: { HTTP_SMS_URL: vendor.url, HTTP_PROVIDER_SECRET: HTTP_SECRET, PROVIDER_TIMEOUT_MS: "200" } });
    const started = await gw.gql(START, { input: { serviceSid: gw.defaultServiceSid, to: "+14155559006", channel: "SMS" } });
    await gw.app.dispatcher.idle();
    expect(gw.logs()).toMatch(/timed out after 200 ms/);
    clock.advance(1000);
    await gw.app.dispatcher.idle();
    expect(vendor.requests).toHaveLength(2);
    expect((await gw.gql(ATTEMPTS, { sid: started.data?.startVerification.verification.sid })).data?.verification.sendCodeAttempts[0].status).toBe("SENT");
  });

  it("a crash mid-send neither loses the message nor records it twice; the resend carries the same idempotency key", async () => {
    // The vendor takes the first request and never answers (the gateway dies meanwhile); it answers the second.
    const vendor = await peer((_r, i) => (i === 0 ? new Promise(() => {}) : { status: 200, body: { messageId: "after-crash" } }));
    const dataDir = mkdtempSync(join(tmpdir(), "verigate-crash-"));
    const env = { PATH: process.env.PATH, PORT: "0", LOG_LEVEL: "warn", DATA_DIR: dataDir, VERIGATE_ADMIN_KEY: ADMIN_KEY, HTTP_SMS_URL: vendor.url, HTTP_PROVIDER_SECRET: HTTP_SECRET, OUTBOX_LEASE_MS: "500" };
    const serve = async () => {
      const child = spawn(process.execPath, ["--import", "tsx", "src/main.ts", "serve"], { env, stdio: ["ignore", "pipe", "pipe"] });
      children.push(child);
      let out = "";
      child.stdout.on("data", (d) => (out += d));
      await vi.waitFor(() => expect(out).toMatch(/listening on (http:\/\/\S+)\/graphql/), { timeout: 20_000 });
      return { child, url: listeningUrl(out)! };
    };
    const gql = async (url: string, query: string, variables: Record<string, unknown> = {}) =>
      (await (await fetch(`${url}/graphql`, { method: "POST", headers: { "content-type": "application/json", authorization: `Bearer ${ADMIN_KEY}` }, body: JSON.stringify({ query, variables }) })).json()) as any;
    try {
      const first = await serve();
      const serviceSid = (await gql(first.url, "{ services { nodes { sid } } }")).data.services.nodes[0].sid;
      const started = await gql(first.url, START, { input: { serviceSid, to: "+14155559005", channel: "SMS" } });
      const sid = started.data.startVerification.verification.sid;
      await vendor.until(1);
      first.child.kill("SIGKILL");
      await new Promise((r) => first.child.once("exit", r));

      const second = await serve();
      await vendor.until(2, 20_000);
      expect(vendor.requests[1].headers["idempotency-key"]).toBe(vendor.requests[0].headers["idempotency-key"]);
      expect(vendor.requests[1].json.body).toBe(vendor.requests[0].json.body);
      await vi.waitFor(async () => expect((await gql(second.url, ATTEMPTS, { sid })).data.verification.sendCodeAttempts).toEqual([{ status: "SENT", channel: "SMS", errorCode: null }]), { timeout: 10_000 });
      // No third send: the job is done, and the delivery was recorded once.
      await new Promise((r) => setTimeout(r, 1500));
      expect(vendor.requests).toHaveLength(2);
      const db = new Database(join(dataDir, "verigate.db"), { readonly: true });
      const sent = db.prepare("select count(*) as n from events where resource_sid = ? and type = 'delivery.sent'").get(sid) as { n: number };
      const jobs = db.prepare("select count(*) as n from outbox").get() as { n: number };
      db.close();
      expect(sent.n).toBe(1);
      expect(jobs.n).toBe(0);
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
