import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { RateLimiterSQLite, type RateLimiterAbstract, type RateLimiterRes } from "rate-limiter-flexible";
import { afterEach, describe, expect, it } from "vitest";
import { openStore } from "../src/store/open.js";
import type { Store } from "../src/store/port.js";

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
});
