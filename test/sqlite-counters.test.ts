import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { RateLimiterSQLite, type RateLimiterAbstract, type RateLimiterRes } from "rate-limiter-flexible";
import { afterEach, describe, expect, it } from "vitest";
import { openStore } from "../src/store/open.js";
import type { Store } from "../src/store/port.js";
import { SqliteCounters, SqliteLimiter } from "../src/store/sqlite/limiter.js";

// The embedded store counts rate limits in memory and writes the counters in its group commit. Its
// answers must be rate-limiter-flexible's own (RateLimiterSQLite on the same table), and the counters
// must be in the table once the store has committed, so they hold across a restart.

const dirs: string[] = [];
const stores: Store[] = [];
afterEach(async () => {
  for (const s of stores.splice(0)) await s.close();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

async function open(dir: string) {
  const store = await openStore({ kind: "sqlite", file: join(dir, "verigate.db") });
  stores.push(store);
  return store;
}

const answer = async (limiter: RateLimiterAbstract, key: string) => {
  try {
    const res = await limiter.consume(key, 1);
    return { ok: true, remaining: res.remainingPoints, consumed: res.consumedPoints, first: res.isFirstInDuration };
  } catch (rejection) {
    const res = rejection as RateLimiterRes;
    return { ok: false, remaining: res.remainingPoints, consumed: res.consumedPoints, first: res.isFirstInDuration };
  }
};

describe("embedded rate-limit counters", () => {
  it("answer as RateLimiterSQLite does, and are in the table after the commit and after a restart", async () => {
    const dir = mkdtempSync(join(tmpdir(), "verigate-counters-"));
    dirs.push(dir);
    const store = await open(dir);
    const ours = store.rateLimiter({ points: 3, duration: 60, keyPrefix: "t3_60" });
    const reference = new Database(":memory:");
    reference.exec("create table rate_limits (key text primary key, points integer not null default 0, expire integer)");
    const theirs = new RateLimiterSQLite({ points: 3, duration: 60, keyPrefix: "t3_60", storeClient: reference, storeType: "better-sqlite3", tableName: "rate_limits", tableCreated: true });

    for (const key of ["a", "a", "b", "a", "a", "b", "a"]) expect(await answer(ours, key), key).toEqual(await answer(theirs, key));
    expect((await ours.get("a"))?.consumedPoints).toBe((await theirs.get("a"))?.consumedPoints);
    expect(await ours.get("never")).toBeNull();

    // Written in the group commit of the turn they changed in: committed by the next turn.
    await new Promise((resolve) => setImmediate(resolve));
    const raw = new Database(join(dir, "verigate.db"));
    const rows = raw.prepare("select key, points from rate_limits order by key").all();
    raw.close();
    await store.close();
    stores.splice(0);
    expect(rows).toEqual([
      { key: "t3_60:a", points: 5 },
      { key: "t3_60:b", points: 2 },
    ]);

    const reopened = (await open(dir)).rateLimiter({ points: 3, duration: 60, keyPrefix: "t3_60" });
    expect(await answer(reopened, "a")).toMatchObject({ ok: false, consumed: 6 });
    expect(await answer(reopened, "b")).toMatchObject({ ok: true, consumed: 3, remaining: 0 });
    expect(await reopened.delete("b")).toBe(true);
    expect(await answer(reopened, "b")).toMatchObject({ ok: true, consumed: 1, first: true });
    reference.close();
  });

  it("past their cap in memory, counters are read back from the table", async () => {
    const dir = mkdtempSync(join(tmpdir(), "verigate-counters-"));
    dirs.push(dir);
    const store = await open(dir);
    const first = store.rateLimiter({ points: 100, duration: 60, keyPrefix: "x" });
    for (let i = 0; i < 10; i++) await first.consume(`k${i}`, 1);
    for (let i = 0; i < 3; i++) await first.consume("a", 1);
    await new Promise((resolve) => setImmediate(resolve));

    // Room for 2: the 11 counters in the table are not all read at start, so a miss reads the table.
    const internals = store as unknown as { sqlite: Database.Database; runner: ConstructorParameters<typeof SqliteCounters>[1] };
    const counters = new SqliteCounters(internals.sqlite, internals.runner, 2);
    const limiter = new SqliteLimiter({ points: 100, duration: 60, keyPrefix: "x", storeClient: internals.sqlite }, counters);
    expect((await limiter.consume("a", 1)).consumedPoints).toBe(4);
    const spread = async (from: number) => {
      for (let i = from; i < from + 4096; i++) await limiter.consume(`n${i}`, 1);
      await new Promise((resolve) => setImmediate(resolve));
    };
    await spread(0);
    await spread(4096);
    // "a" was dropped from memory (written, and the oldest); its count comes back from the table.
    expect((await limiter.consume("a", 1)).consumedPoints).toBe(5);
    expect((await limiter.consume("k3", 1)).consumedPoints).toBe(2);
  });
});
