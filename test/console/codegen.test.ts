import { readFileSync } from "node:fs";
import { join } from "node:path";
import { expect, it } from "vitest";
import { generate } from "../../console/codegen.js";

// The console's GraphQL documents are typed from schema.graphql by GraphQL Code Generator; the generated
// file is committed. A schema or document change without `npm run console:codegen` fails here.
it("console/src/gql.ts is what GraphQL Code Generator makes from schema.graphql and the documents", async () => {
  const committed = readFileSync(join(import.meta.dirname, "..", "..", "console", "src", "gql.ts"), "utf8");
  expect(committed === (await generate()), "console/src/gql.ts is stale: run npm run console:codegen").toBe(true);
});
