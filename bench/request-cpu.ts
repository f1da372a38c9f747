/**
 * CPU µs per request of the gateway process (utime + stime from /proc/<pid>/stat), for the request path:
 * `tsx bench/request-cpu.ts [N]` spawns `src/main.ts serve` (unguarded service, custom codes), warms up,
 * then drives N starts, N checks and N `{ __typename }` (with the admin key) with autocannon and prints the
 * gateway's CPU per request for each.
 * FAST_PATH is passed to the gateway; CPU_PROF=<dir> runs it under `node --cpu-prof` (the profile is written there).
 */
import { CHECK, START, TICK_US, UNGUARDED, cpuTicks, drive, phone, spawnGateway } from "./support.js";

const N = Number(process.argv[2] ?? 3000);
const extra = Object.fromEntries(Object.entries(process.env).filter(([k]) => k === "FAST_PATH")) as Record<string, string>;
const gateway = await spawnGateway({ env: extra, nodeArgs: process.env.CPU_PROF ? ["--cpu-prof", "--cpu-prof-dir", process.env.CPU_PROF] : [] });
const { url, gql } = gateway;
const cpu = () => cpuTicks(gateway.pid) * TICK_US;
const serviceSid = (await gql("{ services { nodes { sid } } }")).services.nodes[0].sid;
await gql(`mutation($s: ID!) { updateService(input: { sid: $s, customCodeEnabled: true, maxSendAttempts: 20, ${UNGUARDED} }) { sid } }`, { s: serviceSid });

const driveN = async (amount: number, body: (n: number) => string) => ({ errors: await drive(url, amount, body) });
const startBody = (base: number) => (n: number) => JSON.stringify({ query: START, variables: { i: { serviceSid, to: phone(base + n), channel: "SMS", customCode: "123456" } } });
const checkBody = (base: number) => (n: number) => JSON.stringify({ query: CHECK, variables: { i: { serviceSid, to: phone(base + n), code: "123456" } } });

await driveN(2000, startBody(900_000));
await driveN(2000, checkBody(900_000));
await new Promise((r) => setTimeout(r, 500));
let before = cpu();
const started = await driveN(N, startBody(0));
await new Promise((r) => setTimeout(r, 300));
const startCpu = (cpu() - before) / N;
before = cpu();
const checked = await driveN(N, checkBody(0));
await new Promise((r) => setTimeout(r, 300));
const checkCpu = (cpu() - before) / N;
before = cpu();
await driveN(N, () => '{"query":"{ __typename }"}');
await new Promise((r) => setTimeout(r, 300));
const typenameCpu = (cpu() - before) / N;
console.log(
  JSON.stringify({
    fastPath: extra.FAST_PATH ?? "default",
    N,
    startUs: Math.round(startCpu),
    checkUs: Math.round(checkCpu),
    typenameUs: Math.round(typenameCpu),
    startErrors: started.errors,
    checkErrors: checked.errors,
  }),
);
await gateway.close();
