import { type IncomingMessage, type Server, type ServerResponse, createServer } from "node:http";
import { renderGraphiQL } from "@graphql-yoga/render-graphiql";
import { EnvelopArmor } from "@escape.tech/graphql-armor";
import { GraphQLError, type GraphQLSchema } from "graphql";
import { useServer } from "graphql-ws/use/ws";
import { type YogaServerInstance, createYoga, maskError } from "graphql-yoga";
import type { Logger } from "pino";
import { WebSocketServer } from "ws";
import { VerifyError } from "../domain/errors.js";
import type { Gateway, GatewayContext } from "../schema/context.js";
import { ANONYMOUS, type Authenticator, type Principal } from "./auth.js";
import type { Metrics } from "./metrics.js";

export interface HttpOptions {
  schema: GraphQLSchema;
  gateway: Gateway;
  auth: Authenticator;
  metrics: Metrics;
  logger: Logger;
  graphiql: boolean;
  isReady: () => boolean;
}

/** API.md defaults: depth 12, 30 aliases, 3,000 tokens, plus a cost ceiling. */
export const queryLimits = { maxDepth: 12, maxAliases: 30, maxTokens: 3000, maxCost: 5000 };

interface InitialContext {
  request?: Request;
  principal?: Principal;
}

/** Domain errors keep their stable code; anything unexpected is logged and masked. */
function errorMasker(logger: Logger) {
  return (error: unknown, message: string, isDev?: boolean): Error => {
    const original = error instanceof GraphQLError ? error.originalError : error;
    if (original instanceof VerifyError) {
      const graphqlError = error instanceof GraphQLError ? error : undefined;
      return new GraphQLError(original.message, {
        nodes: graphqlError?.nodes,
        path: graphqlError?.path,
        extensions: {
          code: original.code,
          twilioCode: original.twilioCode,
          ...(original.details.field ? { field: original.details.field } : {}),
          ...(original.details.retryAfterSeconds !== undefined ? { retryAfterSeconds: original.details.retryAfterSeconds } : {}),
        },
      });
    }
    if (error instanceof GraphQLError && (!original || original instanceof GraphQLError)) return maskError(error, message, isDev);
    logger.error({ err: original ?? error }, "unexpected error");
    return maskError(error, message, false);
  };
}

export function buildHttp(options: HttpOptions) {
  const { gateway, auth, logger } = options;
  const armor = new EnvelopArmor({
    maxDepth: { n: queryLimits.maxDepth },
    maxAliases: { n: queryLimits.maxAliases },
    maxTokens: { n: queryLimits.maxTokens },
    costLimit: { maxCost: queryLimits.maxCost },
  });

  const yoga: YogaServerInstance<InitialContext, GatewayContext> = createYoga<InitialContext, GatewayContext>({
    schema: options.schema,
    graphqlEndpoint: "/graphql",
    landingPage: false,
    graphiql: options.graphiql ? { title: "Verigate GraphiQL", subscriptionsProtocol: "WS" } : false,
    renderGraphiQL,
    maskedErrors: { maskError: errorMasker(logger) },
    logging: {
      debug: (...args) => logger.debug(args.map(String).join(" ")),
      info: (...args) => logger.info(args.map(String).join(" ")),
      warn: (...args) => logger.warn(args.map(String).join(" ")),
      error: (...args) => logger.error(args.map(String).join(" ")),
    },
    plugins: [...armor.protect().plugins],
    context: async ({ request, principal }): Promise<GatewayContext> => ({
      principal: principal ?? (request ? await auth.resolve(request.headers.get("authorization")) : ANONYMOUS),
      gateway,
    }),
  });

  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const path = (req.url ?? "/").split("?")[0];
    if (path === "/health") {
      const ready = options.isReady();
      res.writeHead(ready ? 200 : 503, { "content-type": "application/json" });
      res.end(JSON.stringify({ status: ready ? "ok" : "starting" }));
      return;
    }
    if (path === "/metrics") {
      options.metrics.registry.metrics().then(
        (text) => {
          res.writeHead(200, { "content-type": options.metrics.registry.contentType });
          res.end(text);
        },
        () => {
          res.writeHead(500).end();
        },
      );
      return;
    }
    if (path === "/graphql" || path === "/") {
      if (path === "/") req.url = "/graphql";
      void yoga(req, res);
      return;
    }
    res.writeHead(404, { "content-type": "application/json" }).end(JSON.stringify({ error: "not found" }));
  });

  const wss = new WebSocketServer({ server, path: "/graphql" });
  const ws = useServer<Record<string, unknown>, { principal: Principal }>(
    {
      // A bad token closes the socket with 4403 (Forbidden); no token leaves the connection anonymous.
      onConnect: async (ctx) => {
        const header = ctx.connectionParams?.authorization ?? ctx.connectionParams?.Authorization;
        try {
          ctx.extra.principal = await auth.resolve(typeof header === "string" ? header : null);
          return true;
        } catch {
          return false;
        }
      },
      execute: (args) => (args.rootValue as { execute: (a: unknown) => never }).execute(args),
      subscribe: (args) => (args.rootValue as { subscribe: (a: unknown) => never }).subscribe(args),
      onSubscribe: async (ctx, _id, params) => {
        const { schema, execute, subscribe, contextFactory, parse, validate } = yoga.getEnveloped({
          principal: ctx.extra.principal ?? ANONYMOUS,
          params,
        });
        let document;
        try {
          document = parse(params.query);
        } catch (error) {
          return [error instanceof GraphQLError ? error : new GraphQLError(String(error))];
        }
        const errors = validate(schema, document);
        if (errors.length > 0) return errors;
        return {
          schema,
          operationName: params.operationName,
          document,
          variableValues: params.variables,
          contextValue: await contextFactory(),
          rootValue: { execute, subscribe },
        };
      },
    },
    wss,
  );

  return {
    server,
    async close(): Promise<void> {
      await ws.dispose();
      wss.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
