import SchemaBuilder from "@pothos/core";
import { GraphQLError, Kind, type ValueNode } from "graphql";
import { VerifyError } from "../domain/errors.js";
import type { GatewayContext } from "./context.js";

export const builder = new SchemaBuilder<{
  Context: GatewayContext;
  DefaultFieldNullability: false;
  Scalars: {
    ID: { Input: string; Output: string };
    DateTime: { Input: Date; Output: number | Date };
    JSON: { Input: unknown; Output: unknown };
  };
}>({ defaultFieldNullability: false });

export type GatewayTypes = typeof builder extends PothosSchemaTypes.SchemaBuilder<infer T> ? T : never;

builder.queryType({
  description:
    "Reads. Every operation answers UNAUTHENTICATED without a valid token and FORBIDDEN for a token kind that may never call it; a sid outside the token's scope reads as null or an empty list, exactly like an unknown one. SERVICE_UNAVAILABLE: a dependency (e.g. PostgreSQL) is down; retry later.",
});
builder.mutationType({
  description:
    "Changes. Every operation answers UNAUTHENTICATED without a valid token, FORBIDDEN for a token kind that may never call it, NOT_FOUND for an unknown or out-of-scope sid, INVALID_PARAMETER (with extensions.field) for bad input and SERVICE_UNAVAILABLE while a dependency (e.g. PostgreSQL) is down.",
});
builder.subscriptionType({
  description:
    "Live streams over graphql-ws (graphql-transport-ws) or SSE on /graphql. The token is checked when a stream starts; an unknown or out-of-scope sid answers NOT_FOUND; past the open-stream caps (per socket, per token) SUBSCRIPTION_LIMIT. A stream ends, with one UNAUTHENTICATED result, when its token is revoked or expires.",
});

builder.scalarType("DateTime", {
  description: "A date-time in UTC, as an RFC 3339 / ISO 8601 string with milliseconds, e.g. 2026-11-29T03:35:41.000Z",
  specifiedByURL: "https://scalars.graphql.org/andimarek/date-time",
  serialize: (value) => new Date(value).toISOString(),
  parseValue: (value) => {
    const date = new Date(String(value));
    if (typeof value !== "string" || Number.isNaN(date.getTime())) throw new GraphQLError("DateTime must be an ISO 8601 string");
    return date;
  },
});

const literal = (node: ValueNode): unknown => {
  switch (node.kind) {
    case Kind.STRING:
    case Kind.BOOLEAN:
      return node.value;
    case Kind.INT:
    case Kind.FLOAT:
      return Number(node.value);
    case Kind.OBJECT:
      return Object.fromEntries(node.fields.map((f) => [f.name.value, literal(f.value)]));
    case Kind.LIST:
      return node.values.map(literal);
    case Kind.NULL:
      return null;
    default:
      throw new GraphQLError("JSON literals cannot hold variables");
  }
};

/** README "Limits": every JSON input (metadata, hiddenDetails, tags…) nests at most 8 levels and holds at most 16 kB. */
export const jsonInputLimits = { maxDepth: 8, maxBytes: 16 * 1024 };

/**
 * Refuses a JSON input past the limits as INVALID_PARAMETER (the error masker names the input field,
 * which a scalar does not know). Depth is measured without recursion, before anything recursive
 * (JSON.stringify, a store, a resolver) sees a value that may be nested 100,000 levels deep.
 */
function boundedJson(value: unknown): unknown {
  const pending: { value: unknown; depth: number }[] = [{ value, depth: 0 }];
  while (pending.length > 0) {
    const { value: inner, depth } = pending.pop() as { value: unknown; depth: number };
    if (inner === null || typeof inner !== "object") continue;
    if (depth + 1 > jsonInputLimits.maxDepth) throw new VerifyError("INVALID_PARAMETER", `JSON nested deeper than ${jsonInputLimits.maxDepth} levels.`);
    for (const child of Object.values(inner)) pending.push({ value: child, depth: depth + 1 });
  }
  if (Buffer.byteLength(JSON.stringify(value) ?? "") > jsonInputLimits.maxBytes) {
    throw new VerifyError("INVALID_PARAMETER", `JSON larger than ${jsonInputLimits.maxBytes / 1024} kB.`);
  }
  return value;
}

builder.scalarType("JSON", {
  description: "Any JSON value (RFC 8259): object, array, string, number, boolean or null",
  specifiedByURL: "https://www.rfc-editor.org/rfc/rfc8259",
  serialize: (value) => value,
  parseValue: boundedJson,
  // A literal is already bounded by the token limit, so building it recursively is safe. graphql-js
  // reports a literal's error during validation as it is thrown, so it carries its code itself.
  parseLiteral: (node) => {
    try {
      return boundedJson(literal(node));
    } catch (error) {
      if (!(error instanceof VerifyError)) throw error;
      throw new GraphQLError(error.message, { nodes: node, extensions: { code: error.code, twilioCode: error.twilioCode } });
    }
  },
});
