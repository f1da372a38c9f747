import { readFileSync } from "node:fs";
import { buildSchema, isEnumType, isInputObjectType, isInterfaceType, isIntrospectionType, isObjectType, isScalarType, isSpecifiedScalarType } from "graphql";
import { describe, expect, it } from "vitest";
import { errorCodes } from "../src/domain/errors.js";
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

  it("the README's error table names every domain error code with its twilioCode", () => {
    const readme = readFileSync("README.md", "utf8");
    const rows = readme.split("\n").filter((line) => /^\| `[A-Z_]+`/.test(line));
    for (const [code, twilioCode] of Object.entries(errorCodes)) {
      const row = rows.find((line) => line.split("|")[1].includes(`\`${code}\``));
      expect(row, `${code} has no row in the README's error table`).toBeDefined();
      expect(row!.split("|")[3], code).toContain(String(twilioCode));
    }
  });

  it("has no devOutbox when the dev outbox does not deliver", () => {
    const production = gatewaySchema({ devOutbox: false });
    expect(production.getQueryType()?.getFields().devOutbox).toBeUndefined();
    expect(production.getType("OutboxMessage")).toBeUndefined();
    expect(production.getQueryType()?.getFields().verification).toBeDefined();
  });

  it("describes every type, field, argument, input field and enum value (GraphiQL's docs pane)", () => {
    const schema = gatewaySchema({ devOutbox: true });
    const missing: string[] = [];
    for (const type of Object.values(schema.getTypeMap())) {
      if (isIntrospectionType(type) || isSpecifiedScalarType(type)) continue;
      if (!type.description?.trim()) missing.push(`type ${type.name}`);
      if (isObjectType(type) || isInterfaceType(type) || isInputObjectType(type)) {
        for (const field of Object.values(type.getFields())) {
          if (!field.description?.trim()) missing.push(`${type.name}.${field.name}`);
          for (const arg of "args" in field ? field.args : []) if (!arg.description?.trim()) missing.push(`${type.name}.${field.name}(${arg.name})`);
        }
      }
      if (isEnumType(type)) for (const value of type.getValues()) if (!value.description?.trim()) missing.push(`${type.name}.${value.name}`);
    }
    expect(missing).toEqual([]);
    for (const name of ["DateTime", "JSON"]) {
      const scalar = schema.getType(name);
      expect(isScalarType(scalar) && scalar.specifiedByURL, `${name} @specifiedBy`).toMatch(/^https:\/\//);
    }
  });
});
