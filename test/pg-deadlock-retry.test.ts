import { randomBytes } from "node:crypto";
import { eq } from "drizzle-orm";
import { drizzle } from "drizzle-orm/node-postgres";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openStore } from "../src/store/open.js";
import { PgRunner } from "../src/store/pg/runner.js";
import * as tables from "../src/store/pg/schema.js";
import type { Store } from "../src/store/port.js";
import type { VerifyEvent } from "../src/domain/types.js";
import { type Q, get, published, run } from "../src/store/shared/ops.js";

// When PostgreSQL breaks a deadlock it rolls one transaction back whole; the gateway runs that write
// unit again instead of failing the request or the courier's job. Played here with a real deadlock:
// the test's own connection and a unit lock two settings rows in opposite orders.
const onPg = process.env.VERIGATE_TEST_STORE === "pg" && !!process.env.TEST_PG_URL;
const url = process.env.TEST_PG_URL as string;
const schema = `dl_${randomBytes(6).toString("hex")}`;
let store: Store;
let pool: pg.Pool;
let holder: pg.Client;

beforeAll(async () => {
  if (!onPg) return;
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  await admin.query(`create schema ${schema}`);
  await admin.end();
  store = await openStore({ kind: "pg", url, schema }); // migrates the schema
  await store.initSetting("lock:a", "0");
  await store.initSetting("lock:b", "0");
  pool = new pg.Pool({ connectionString: url, options: `-c search_path=${schema}`, max: 2, application_name: schema });
  holder = new pg.Client({ connectionString: url, options: `-c search_path=${schema}` });
  await holder.connect();
});

afterAll(async () => {
  if (!onPg) return;
  await holder.end();
  await pool.end();
  await store.close();
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  await admin.query(`drop schema if exists ${schema} cascade`);
  await admin.end();
});

describe.skipIf(!onPg)("a deadlock victim on PostgreSQL", () => {
  it("runs its write unit again, once the other transaction is through, and publishes its events once", async () => {
    const publishedBatches: VerifyEvent[][] = [];
    const retries: { reason: string; attempt: number }[] = [];
    const runner = new PgRunner(
      pool,
      drizzle(pool, { schema: tables }),
      tables,
      () => ({ publish: (events: VerifyEvent[]) => publishedBatches.push([...events]) }),
      (reason, attempt) => retries.push({ reason, attempt }),
    );
    let runs = 0;
    // b, then a: the opposite of the holder below.
    const unit = function* ({ db, t }: Q) {
      runs++;
      yield* get(db.select().from(t.settings).where(eq(t.settings.key, "lock:b")), {});
      yield* run(db.update(t.settings).set({ value: `unit ${runs}` }).where(eq(t.settings.key, "lock:a")));
      yield* published({ sid: `EV${runs}`, type: "service.updated" } as VerifyEvent);
      return runs;
    };
    await holder.query("begin");
    // Only the unit's connection looks for the deadlock (after 1 s); the holder's check would come 10 s later,
    // so a busy machine cannot make the holder the victim.
    await holder.query("set local deadlock_timeout = '10s'");
    await holder.query("update settings set value = 'holder' where key = 'lock:a'");
    const written = runner.write(unit);
    // Wait until the unit holds b and waits for a.
    const watcher = new pg.Client({ connectionString: url });
    await watcher.connect();
    const waiting = async () =>
      Number((await watcher.query(`select count(*) as n from pg_stat_activity where wait_event_type = 'Lock' and application_name = $1`, [schema])).rows[0].n);
    await expect.poll(waiting, { timeout: 5_000, interval: 20 }).toBe(1);
    await watcher.end();
    // The unit waited first, so its deadlock check (deadlock_timeout after its wait began) finds the cycle
    // first and PostgreSQL rolls it back; the holder gets b and commits.
    await holder.query("update settings set value = 'holder' where key = 'lock:b'");
    await holder.query("commit");
    expect(await written).toBe(2);
    expect(await store.getSetting("lock:a")).toBe("unit 2");
    expect(await store.getSetting("lock:b")).toBe("holder");
    // The rerun is heard (the gateway logs it and counts verigate_store_retries_total{reason="deadlock"}).
    expect(retries).toEqual([{ reason: "deadlock", attempt: 1 }]);
    // Only the committed run's events go out.
    expect(publishedBatches.map((batch) => batch.map((e) => e.sid))).toEqual([["EV2"]]);
  });

  it("does not run a unit again for an error that is not a deadlock", async () => {
    const runner = new PgRunner(pool, drizzle(pool, { schema: tables }), tables, () => null);
    let runs = 0;
    const unit = function* ({ db, t }: Q) {
      runs++;
      yield* run(db.insert(t.settings).values({ key: "lock:a", value: "duplicate" }));
    };
    await expect(runner.write(unit)).rejects.toThrow();
    expect(runs).toBe(1);
  });
});
