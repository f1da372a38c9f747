import SchemaBuilder from "@pothos/core";
import { GraphQLError, Kind, type ValueNode } from "graphql";
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

builder.scalarType("JSON", {
  description: "Any JSON value (RFC 8259): object, array, string, number, boolean or null",
  specifiedByURL: "https://www.rfc-editor.org/rfc/rfc8259",
  serialize: (value) => value,
  parseValue: (value) => value,
  parseLiteral: literal,
});
