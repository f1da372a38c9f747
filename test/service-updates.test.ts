import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type TestGateway, startGateway } from "./support/gateway.js";

// A nested setting (totp, passkeys, rate limits) is merged onto the service as it is inside the write:
// updates of different parts of it, sent at once, all land (none is undone by another's stale copy).
let gw: TestGateway;
beforeAll(async () => {
  gw = await startGateway();
});
afterAll(async () => gw.close());

const UPDATE = `mutation($input: UpdateServiceInput!) { updateService(input: $input) { sid } }`;
const READ = `query($s: ID!) { service(sid: $s) { totp { issuer timeStep codeLength skew algorithm } } }`;

describe("updateService under concurrency", () => {
  it("parallel updates of different totp fields all land", async () => {
    const created = await gw.gql(`mutation { createService(input: { friendlyName: "Merge" }) { sid } }`);
    const sid = created.data?.createService.sid as string;
    const answers = await Promise.all([
      gw.gql(UPDATE, { input: { sid, totp: { issuer: "Acme" } } }),
      gw.gql(UPDATE, { input: { sid, totp: { codeLength: 8 } } }),
      gw.gql(UPDATE, { input: { sid, totp: { timeStep: 60 } } }),
      gw.gql(UPDATE, { input: { sid, totp: { algorithm: "SHA256" } } }),
    ]);
    for (const a of answers) expect(a.errors).toBeUndefined();
    const read = await gw.gql(READ, { s: sid });
    expect(read.data?.service.totp).toEqual({ issuer: "Acme", timeStep: 60, codeLength: 8, skew: 1, algorithm: "SHA256" });
  });
});
