/**
 * `tsx bench/protections.ts [starts] [rounds]`: what Fraud Guard and rate limits cost a start, in CPU µs
 * of the gateway process (utime + stime from /proc/<pid>/stat, outbox drained), with the default
 * protections and with Fraud Guard OFF and no rate limits, alternating in one process. Every start goes
 * to its own number and the numbers spread over 7,000 prefixes, so Fraud Guard judges but never blocks.
 */
import { START, UNGUARDED, cpuTicks, drive, spawnGateway } from "./support.js";

const STARTS = Number(process.argv[2] ?? 3000);
const ROUNDS = Number(process.argv[3] ?? 3);
const GUARDED = "fraudGuard: BASIC, rateLimits: { perTo: [{ max: 10, interval: 3600 }], perIp: [{ max: 50, interval: 3600 }], perService: [] }";
const AREAS = [415, 212, 646, 303, 617, 206, 312, 512, 702, 213];
const phone = (n: number) => `+1${AREAS[n % 10]}${200 + (Math.floor(n / 10) % 700)}${String(Math.floor(n / 7000) % 10_000).padStart(4, "0")}`;

// PROFILE=<dir>: the gateway writes a CPU profile there when it exits.
const gateway = await spawnGateway({
  nodeArgs: process.env.PROFILE ? ["--cpu-prof", `--cpu-prof-dir=${process.env.PROFILE}`] : [],
  env: process.env.DATABASE_URL ? { DATABASE_URL: process.env.DATABASE_URL, DATABASE_SCHEMA: process.env.DATABASE_SCHEMA ?? "public" } : {},
});
const { url, gql, drained } = gateway;
const serviceSid = (await gql("{ services { nodes { sid } } }")).services.nodes[0].sid;
let next = 0;
async function round(settings: string, amount: number): Promise<number> {
  await gql(`mutation($s: ID!) { updateService(input: { sid: $s, customCodeEnabled: true, maxSendAttempts: 20, ${settings} }) { sid } }`, { s: serviceSid });
  await drained();
  const before = cpuTicks(gateway.pid);
  const errors = await drive(url, amount, () => JSON.stringify({ query: START, variables: { i: { serviceSid, to: phone(next++), channel: "SMS", customCode: "123456" } } }));
  await drained();
  const ticks = cpuTicks(gateway.pid) - before;
  if (errors > 0) process.stderr.write(`${errors} errors\n`);
  return (ticks * 10_000) / amount; // 100 ticks a second
}

await round(GUARDED, 1000);
await round(UNGUARDED, 1000);
const guarded: number[] = [];
const unguarded: number[] = [];
// ONLY=guarded|unguarded: one kind of round (to compare two profiles).
for (let i = 0; i < ROUNDS; i++) {
  if (process.env.ONLY !== "guarded") unguarded.push(await round(UNGUARDED, STARTS));
  if (process.env.ONLY !== "unguarded") guarded.push(await round(GUARDED, STARTS));
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const [g, u] = [median(guarded) ?? 0, median(unguarded) ?? 0];
console.log(`unguarded ${unguarded.map((x) => x.toFixed(0)).join(" ")} µs/start; guarded ${guarded.map((x) => x.toFixed(0)).join(" ")} µs/start`);
console.log(`median: unguarded ${u.toFixed(0)}, guarded ${g.toFixed(0)} µs/start: protections +${(((g - u) / u) * 100).toFixed(0)} %`);
await gateway.close();
