import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CHECK, START, type TestGateway, startGateway } from "./support/gateway.js";

// /health and /ready are what a load balancer acts on: a busy instance must not look like a dead one.
const onPg = process.env.VERIGATE_TEST_STORE === "pg";

describe.runIf(onPg)("health under load (PostgreSQL)", () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startGateway();
  });
  afterAll(async () => gw?.close());

  it("/ready and /health stay 200 while every pooled connection waits on a row lock", async () => {
    const started = await gw.gql(START, { input: { serviceSid: gw.defaultServiceSid, to: "+14155550180", channel: "SMS" } });
    const sid = started.data!.startVerification.verification.sid as string;
    const [{ schema }] = await gw.sql<{ schema: string }>("select current_schema() as schema");
    // Another session holds the verification's row: every check waits for it, each on a pooled connection.
    const locker = new pg.Client({ connectionString: process.env.TEST_PG_URL });
    await locker.connect();
    await locker.query(`set search_path to ${schema}`);
    await locker.query("begin");
    await locker.query("select sid from verifications where sid = $1 for update", [sid]);
    const checks = Array.from({ length: 20 }, () => gw.gql(CHECK, { input: { serviceSid: gw.defaultServiceSid, verificationSid: sid, code: "000000" } }));
    try {
      await new Promise((resolve) => setTimeout(resolve, 500));
      const ready = await fetch(`${gw.url}/ready`);
      expect(ready.status).toBe(200);
      expect(await (await fetch(`${gw.url}/health`)).json()).toMatchObject({ status: "ok", store: "ok" });
    } finally {
      await locker.query("rollback");
      await locker.end();
      await Promise.all(checks);
    }
  });
});
