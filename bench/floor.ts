import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { createSchema, createYoga } from "graphql-yoga";

// The floor: bare graphql-yoga answering `{ __typename }`, same Node, same machine, same run.
const yoga = createYoga({ schema: createSchema({ typeDefs: "type Query { ok: Boolean }" }), logging: false, graphiql: false, landingPage: false });
const server = createServer(yoga);
server.listen(0, "127.0.0.1", () => process.stdout.write(`listening on http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql\n`));
