import { type Server, createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type TestGateway, startGateway } from "./support/gateway.js";

// Deleting a service removes its webhook deliveries and their outbox jobs while the courier may be
// writing a retry of one of them. On PostgreSQL both transactions must take their row locks in one
// order (the delivery, then its job), or one of them dies in a deadlock: the delete answered 500 and
// the courier logged "delivery crashed" (found by CI in session 7).
let gw: TestGateway;
let receiver: Server;
let hookUrl: string;
beforeAll(async () => {
  // A receiver that refuses every delivery at once: each one is retried.
  receiver = createServer((_req, res) => res.writeHead(500).end());
  await new Promise<void>((ok) => receiver.listen(0, "127.0.0.1", ok));
  hookUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
  gw = await startGateway();
});
afterAll(async () => {
  await gw?.close();
  receiver?.close();
});

describe("deleting a service while its webhook retries are in flight", () => {
  it("always succeeds; the courier never crashes, and nothing of the service is left to deliver", async () => {
    const refused: string[] = [];
    const deleted: string[] = [];
    for (let round = 0; round < 20; round++) {
      const created = await gw.gql<{ createService: { sid: string } }>(`mutation($n: String!) { createService(input: { friendlyName: $n, fraudGuard: OFF }) { sid } }`, {
        n: `Race ${round}`,
      });
      const sid = created.data!.createService.sid;
      const hook = await gw.gql(`mutation($s: ID!, $u: String!) { createWebhook(input: { serviceSid: $s, url: $u, eventTypes: ["*"] }) { webhook { sid } } }`, { s: sid, u: hookUrl });
      expect(hook.errors).toBeUndefined();
      await Promise.all(
        Array.from({ length: 6 }, (_, i) =>
          gw
            .gql(`mutation($input: StartVerificationInput!) { startVerification(input: $input) { verification { sid } } }`, {
              input: { serviceSid: sid, to: `+14155570${String(round * 10 + i).padStart(3, "0")}`, channel: "SMS" },
            })
            .then((r) => expect(r.errors).toBeUndefined()),
        ),
      );
      // Vary the moment so the delete meets first tries, retries being written and sends being settled.
      await new Promise((r) => setTimeout(r, (round % 5) * 10));
      const answer = await gw.gql(`mutation($s: ID!) { deleteService(sid: $s) { sid } }`, { s: sid });
      if (answer.errors) refused.push(JSON.stringify(answer.errors));
      deleted.push(sid);
    }
    expect(refused).toEqual([]);
    // A delivery written by an event whose transaction read the webhook before the delete committed is
    // canceled by the courier, which finds its webhook gone: nothing of a deleted service stays pending.
    const marks = deleted.map(() => "?").join(",");
    const pending = async () =>
      Number((await gw.sql<{ n: number }>(`select count(*) as n from webhook_deliveries where status = 'PENDING' and service_sid in (${marks})`, deleted))[0].n);
    await expect.poll(pending, { timeout: 5_000, interval: 100 }).toBe(0);
    const jobs = await gw.sql<{ n: number }>(
      `select count(*) as n from outbox where kind = 'webhook' and ref_sid in (select cast(seq as text) from webhook_deliveries where service_sid in (${marks}))`,
      deleted,
    );
    expect(Number(jobs[0].n)).toBe(0);
    // No courier job crashed (a deadlock the store's retry absorbed would be logged, and is allowed here:
    // test/pg-lock-order.test.ts holds each pair to its lock order).
    expect(gw.logs()).not.toMatch(/delivery crashed/);
  }, 60_000);
});
