/**
 * Cost of a start and a check on PostgreSQL (bench only): gateway CPU µs per request (/proc), the CPU of
 * the PostgreSQL backends serving this gateway (by application_name), and round trips per request.
 * `npx tsx bench/pg-cost.ts [n]` with PostgreSQL at $PG_URL (default postgres://postgres@127.0.0.1:5432/test);
 * PG_COST_SQLITE=1 measures the embedded store the same way.
 */
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { CHECK, START, UNGUARDED, cpuTicks as ticks, drive, phone, spawnGateway } from "./support.js";

const N = Number(process.argv[2] ?? 2000);
const PG = process.env.PG_URL ?? "postgres://postgres@127.0.0.1:5432/test";
const app = `pgcost_${process.pid}`;
const schema = `pgcost_${Date.now()}`;
const dir = mkdtempSync(join(tmpdir(), "verigate-pgcost-"));
const countFile = join(dir, "count");
const admin = new pg.Client(PG);
await admin.connect();
async function backends(): Promise<Map<number, number>> {
  const { rows } = await admin.query("select pid from pg_stat_activity where application_name = $1", [app]);
  const out = new Map<number, number>();
  for (const { pid } of rows) {
    try {
      out.set(pid, ticks(pid));
    } catch {}
  }
  return out;
}
const gateway = await spawnGateway({
  dir,
  nodeArgs: [...(process.env.PG_COST_PROF ? ["--cpu-prof", `--cpu-prof-dir=${process.env.PG_COST_PROF}`] : []), "--import", "./bench/pg-count.mjs"],
  env: {
    ...(process.env.PG_COST_SQLITE ? {} : { DATABASE_URL: `${PG}?application_name=${app}`, DATABASE_SCHEMA: schema }),
    PG_COUNT_FILE: countFile,
    ...(process.env.PG_COUNT_TEXTS ? { PG_COUNT_TEXTS: process.env.PG_COUNT_TEXTS } : {}),
  },
});
const { url, gql, drained } = gateway;
const serviceSid = (await gql("{ services { nodes { sid } } }")).services.nodes[0].sid;
await gql(`mutation($s: ID!) { updateService(input: { sid: $s, customCodeEnabled: true, maxSendAttempts: 20, ${UNGUARDED} }) { sid } }`, { s: serviceSid });
const run = (amount: number, body: (n: number) => string) => drive(url, amount, body, 8);
const measure = async (name: string, amount: number, body: (n: number) => string) => {
  await drained();
  await new Promise((r) => setTimeout(r, 300));
  const g0 = ticks(gateway.pid);
  const b0 = await backends();
  const q0 = Number(readFileSync(countFile, "utf8"));
  const errors = await run(amount, body);
  await drained();
  await new Promise((r) => setTimeout(r, 300));
  const g1 = ticks(gateway.pid);
  const b1 = await backends();
  const q1 = Number(readFileSync(countFile, "utf8"));
  let pgTicks = 0;
  for (const [pid, t] of b1) pgTicks += t - (b0.get(pid) ?? 0);
  const us = (t: number) => ((t * 10_000) / amount).toFixed(0); // 100 ticks per second
  console.log(`${name}: gateway ${us(g1 - g0)} µs/req, postgres backends ${us(pgTicks)} µs/req, ${((q1 - q0 - 4) / amount).toFixed(2)} queries/req, errors ${errors}`);
};
await run(1000, (n) => JSON.stringify({ query: START, variables: { i: { serviceSid, to: phone(900_000 + n), channel: "SMS", customCode: "123456" } } }));
await run(1000, (n) => JSON.stringify({ query: CHECK, variables: { i: { serviceSid, to: phone(900_000 + n), code: "123456" } } }));
await measure("start", N, (n) => JSON.stringify({ query: START, variables: { i: { serviceSid, to: phone(n), channel: "SMS", customCode: "123456" } } }));
await measure("check", N, (n) => JSON.stringify({ query: CHECK, variables: { i: { serviceSid, to: phone(n), code: "123456" } } }));
await gateway.close();
await admin.query(`drop schema if exists ${schema} cascade`);
await admin.end();
