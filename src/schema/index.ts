import { GraphQLObjectType, GraphQLSchema, lexicographicSortSchema, printSchema } from "graphql";
import { builder } from "./builder.js";
import "./service.js";
import "./verification.js";
import "./events.js";
import "./dev.js";
import "./factor.js";
import "./webhook.js";
import "./template.js";
import "./insights.js";
import "./viewer.js";

const fullSchema = builder.toSchema();

/** The schema this gateway serves; without the dev outbox (query and type) when it does not deliver. */
export function gatewaySchema(options: { devOutbox: boolean }): GraphQLSchema {
  if (options.devOutbox) return fullSchema;
  const config = fullSchema.toConfig();
  const queryConfig = (config.query as GraphQLObjectType).toConfig();
  const { devOutbox: _dev, ...fields } = queryConfig.fields;
  const query = new GraphQLObjectType({ ...queryConfig, fields });
  return new GraphQLSchema({
    ...config,
    query,
    types: config.types.filter((type) => type.name !== "OutboxMessage" && type.name !== "Query"),
  });
}

/** schema.graphql: the full schema, sorted so diffs show real changes only. */
export const printedSchema = (): string => `${printSchema(lexicographicSortSchema(fullSchema))}\n`;
