import { randomBytes } from "node:crypto";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { newSid } from "../src/domain/ids.js";
import type { StartPlan, Store } from "../src/store/port.js";
import { openStore } from "../src/store/open.js";

// PostgreSQL pays per round trip (the gateway's CPU, the backend's and the wait): the hot units keep a
// fixed, small number of them. Counted on the store alone (no dispatcher or sweeper sharing the pool).
const onPg = process.env.VERIGATE_TEST_STORE === "pg" && !!process.env.TEST_PG_URL;
const url = process.env.TEST_PG_URL as string;
const schema = `rt_${randomBytes(6).toString("hex")}`;
let store: Store;
let texts: string[] = [];
const query = pg.Client.prototype.query;

beforeAll(async () => {
  if (!onPg) return;
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  await admin.query(`create schema ${schema}`);
  await admin.end();
  store = await openStore({ kind: "pg", url, schema });
  pg.Client.prototype.query = function (this: pg.Client, ...args: unknown[]) {
    const first = args[0] as string | { text?: string };
    texts.push(typeof first === "string" ? first : (first?.text ?? ""));
    return (query as (...a: unknown[]) => unknown).apply(this, args);
  } as typeof query;
});

afterAll(async () => {
  if (!onPg) return;
  pg.Client.prototype.query = query;
  await store.close();
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  await admin.query(`drop schema if exists ${schema} cascade`);
  await admin.end();
});

function plan(n: number): StartPlan {
  const now = Date.now();
  return {
    serviceSid: "VA00000000000000000000000000000001",
    to: `+1415555${String(2000 + n)}`,
    channel: "SMS",
    attemptChannel: "SMS",
    attemptSid: newSid("VL"),
    now,
    sendWindowStart: now - 600_000,
    maxSendAttempts: 5,
    sna: null,
    resends: () => true,
    fresh: { sid: newSid("VE"), codeHash: "k:hash", codeSealed: "sealed", codeLength: 6, maxCheckAttempts: 5, amount: null, payee: null, locale: null, customFriendlyName: null, lookup: null, tags: null, expiresAt: now + 600_000, country: "US", prefix: null, testMode: false },
  };
}

describe.skipIf(!onPg)("round trips on PostgreSQL", () => {
  it("a start is 4 (BEGIN with its lock, one read, one write, COMMIT) and reads nothing back; an approval is 6", async () => {
    const first = plan(1);
    await store.startVerification(first); // prepares the statements on a connection
    texts = [];
    const p = plan(2);
    const started = await store.startVerification(p);
    expect(started.ok).toBe(true);
    expect(texts).toHaveLength(4);
    expect(texts[0]).toMatch(/^begin; select pg_advisory_xact_lock/);
    expect(texts[3]).toBe("commit");
    // The write is one statement: verification, attempt, delivery job and event, no RETURNING.
    expect(texts[2]).toMatch(/^with /);
    expect(texts[2]).not.toMatch(/returning/i);

    texts = [];
    const checked = await store.checkVerification({ serviceSid: p.serviceSid, sid: null, to: p.to, now: Date.now(), acceptApprovedSna: false }, () => true);
    expect(checked.ok && checked.verification.status).toBe("APPROVED");
    expect(texts).toHaveLength(6);
  });

  it("a single-statement outbox write runs without BEGIN/COMMIT", async () => {
    texts = [];
    await store.claimJobs(Date.now(), 30_000, 10);
    expect(texts).toHaveLength(1);
  });
});
