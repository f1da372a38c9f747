import { readFileSync } from "node:fs";
import { buildSchema } from "graphql";
import { describe, expect, it } from "vitest";
import { gatewaySchema, printedSchema } from "../src/schema/index.js";

describe("schema.graphql", () => {
  it("is up to date with the Pothos schema (run `npm run schema`)", () => {
    expect(readFileSync("schema.graphql", "utf8")).toBe(printedSchema());
  });

  it("carries API.md's names for the operations this gateway delivers", () => {
    const schema = buildSchema(readFileSync("schema.graphql", "utf8"));
    const roots = { Query: schema.getQueryType(), Mutation: schema.getMutationType(), Subscription: schema.getSubscriptionType() };
    const names = (type: keyof typeof roots) => Object.keys(roots[type]?.getFields() ?? {});
    expect(names("Query")).toEqual(expect.arrayContaining(["service", "services", "verification", "verifications", "devOutbox"]));
    expect(names("Mutation")).toEqual(expect.arrayContaining(["createService", "updateService", "createApiKey", "startVerification", "checkVerification", "updateVerification"]));
    expect(names("Subscription")).toEqual(expect.arrayContaining(["verificationUpdated", "serviceEvents"]));
  });

  it("has no devOutbox when the dev outbox does not deliver", () => {
    const production = gatewaySchema({ devOutbox: false });
    expect(production.getQueryType()?.getFields().devOutbox).toBeUndefined();
    expect(production.getType("OutboxMessage")).toBeUndefined();
    expect(production.getQueryType()?.getFields().verification).toBeDefined();
  });
});
