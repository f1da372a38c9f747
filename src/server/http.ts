import { createHash, timingSafeEqual } from "node:crypto";
import { type IncomingMessage, type Server, type ServerResponse, createServer } from "node:http";
import { renderGraphiQL } from "@graphql-yoga/render-graphiql";
import { EnvelopArmor } from "@escape.tech/graphql-armor";
import {
  type ASTNode,
  type DocumentNode,
  type ExecutionResult,
  GraphQLError,
  type GraphQLSchema,
  Kind,
  NoSchemaIntrospectionCustomRule,
  type SelectionNode,
  type ValidationContext,
  getOperationAST,
  parse,
  validate,
  visit,
} from "graphql";
import { useServer } from "graphql-ws/use/ws";
import { type Plugin, type YogaServerInstance, createYoga, isAsyncIterable, maskError } from "graphql-yoga";
import type { Logger } from "pino";
import { WebSocketServer } from "ws";
import type { HttpConfig, SubscriptionLimits } from "../config.js";
import { VerifyError, invalidParameter } from "../domain/errors.js";
import { StreamLedger, untilTokenEnds } from "../realtime/live.js";
import type { Gateway, GatewayContext } from "../schema/context.js";
import { isOperation, refusal } from "../domain/access/rules.js";
import { ANONYMOUS, type Authenticator, type Principal, forbidden, tokenLife, unauthenticated } from "./auth.js";
import type { Metrics } from "./metrics.js";
import { pagePolicy } from "./csp.js";
import { BodyTooLarge, payloadTooLarge, readBody } from "./body.js";
import { fastPath } from "./fast-path.js";

export interface HttpOptions {
  schema: GraphQLSchema;
  gateway: Gateway;
  auth: Authenticator;
  metrics: Metrics;
  logger: Logger;
  graphiql: boolean;
  http: HttpConfig;
  isReady: () => boolean;
  /** Whether each dependency answers now: the store always, Redis when one is configured. */
  dependencies: () => Promise<{ store: boolean; redis?: boolean }>;
  limits: SubscriptionLimits;
  /** Other endpoints (provider callbacks); answers true when it handled the request. */
  routes?: (req: IncomingMessage, res: ServerResponse, url: URL) => Promise<boolean>;
}

/** API.md defaults: depth 12, 30 aliases, 3,000 tokens, plus a cost ceiling. */
export const queryLimits = { maxDepth: 12, maxAliases: 30, maxTokens: 3000, maxCost: 5000 };

interface InitialContext {
  request?: Request;
  principal?: Principal;
  /** node:http's request: yoga passes it along for requests over HTTP. */
  req?: IncomingMessage;
  /** Over graphql-ws there is no `req`: the peer address of the socket's upgrade request. */
  clientAddress?: string | null;
}

/**
 * The input field of a variable that a scalar refused (the JSON scalar's limits): graphql-js reports it
 * only in its message, `Variable "$input" got invalid value … at "input.metadata"; Expected type "JSON". …`.
 * Named as the input field (`metadata`), like every other INVALID_PARAMETER.
 */
function coercedInputField(message: string): string | null {
  const variable = /^Variable "\$(\w+)" got invalid value /.exec(message)?.[1];
  const end = message.lastIndexOf('"; Expected type "');
  if (!variable || end < 0) return null;
  const at = message.lastIndexOf(' at "', end);
  return at < 0 ? variable : message.slice(at + 5, end).replace(new RegExp(`^${variable}\\.`), "");
}

/** The domain error behind a GraphQL error: thrown by a resolver, or by a scalar while graphql-js coerced a variable. */
function domainError(error: unknown): VerifyError | null {
  let cause = error;
  for (let depth = 0; depth < 3 && cause instanceof GraphQLError; depth++) cause = cause.originalError;
  return cause instanceof VerifyError ? cause : null;
}

/** A domain error as the client sees it: its message, its stable code, and the details it carries. */
function asGraphQLError(error: VerifyError, at?: GraphQLError, field: string | null = error.details.field ?? null): GraphQLError {
  return new GraphQLError(error.message, {
    nodes: at?.nodes,
    path: at?.path,
    extensions: {
      code: error.code,
      twilioCode: error.twilioCode,
      ...(field ? { field } : {}),
      ...(error.details.retryAfterSeconds !== undefined ? { retryAfterSeconds: error.details.retryAfterSeconds } : {}),
    },
  });
}

/** Domain errors keep their stable code; anything unexpected is logged and masked. */
function errorMasker() {
  return (error: unknown, message: string, isDev?: boolean): Error => {
    const original = error instanceof GraphQLError ? error.originalError : error;
    const domain = domainError(error);
    if (domain) {
      const graphqlError = error instanceof GraphQLError ? error : undefined;
      // A scalar that refused a variable (the JSON limits) names no field itself: graphql-js's message does.
      const field = domain.details.field ?? (graphqlError ? coercedInputField(graphqlError.message) : null);
      if (field && !domain.details.field) return asGraphQLError(new VerifyError(domain.code, `Invalid parameter \`${field}\`: ${domain.message}`, domain.details), graphqlError, field);
      return asGraphQLError(domain, graphqlError);
    }
    if (error instanceof GraphQLError && !error.path && error.message.startsWith('Variable "$')) {
      // graphql-js reports variables that do not coerce without a code; the ecosystem calls them BAD_USER_INPUT.
      return new GraphQLError(error.message, { nodes: error.nodes, extensions: { ...error.extensions, code: "BAD_USER_INPUT" } });
    }
    if (error instanceof GraphQLError && (!original || original instanceof GraphQLError)) return maskError(error, message, isDev);
    // Yoga logs the original error (see `logging.error`); the client sees only "Unexpected error.".
    return maskError(error, message, false);
  };
}

/**
 * The input-field path (list positions left out) of the first string holding a NUL character, or null. It
 * stops descending where no input can reach (the JSON scalar refuses deeper values, naming the field), so a
 * 100,000-deep variable cannot exhaust the stack here first.
 */
function nulPath(value: unknown, depth = 0): string[] | null {
  if (typeof value === "string") return value.includes("\u0000") ? [] : null;
  if (depth > 32) return null;
  if (Array.isArray(value)) {
    for (const item of value) {
      const found = nulPath(item, depth + 1);
      if (found) return found;
    }
    return null;
  }
  if (value && typeof value === "object") {
    for (const [key, inner] of Object.entries(value)) {
      const found = nulPath(inner, depth + 1);
      if (found) return [key, ...found];
    }
  }
  return null;
}

/**
 * Where a value sits in a document, named as API errors name input fields: the argument and the input
 * object fields around it, without the `input` argument that every mutation takes (`locale`, not
 * `input.locale`), and never a variable's own name, which is the client's choice.
 */
function inputFieldPath(ancestors: readonly (ASTNode | readonly ASTNode[])[]): string[] {
  const names: string[] = [];
  for (const ancestor of ancestors) {
    if ("kind" in ancestor && (ancestor.kind === Kind.ARGUMENT || ancestor.kind === Kind.OBJECT_FIELD)) names.push(ancestor.name.value);
  }
  return names[0] === "input" ? names.slice(1) : names;
}

interface NulSites {
  /** The field of the first string literal holding a NUL, or null. */
  literal: string | null;
  /** Each variable's place in the document, for naming a NUL inside its value. */
  variables: Map<string, string[]>;
}

function nulSites(document: DocumentNode): NulSites {
  const sites: NulSites = { literal: null, variables: new Map() };
  visit(document, {
    VariableDefinition: () => false,
    // graphql-js passes the parent apart from the ancestors above it.
    StringValue(node, _key, parent, _path, ancestors) {
      if (sites.literal === null && node.value.includes("\u0000") && parent) sites.literal = inputFieldPath([...ancestors, parent]).join(".") || "input";
    },
    Variable(node, _key, parent, _path, ancestors) {
      if (!sites.variables.has(node.name.value) && parent) sites.variables.set(node.name.value, inputFieldPath([...ancestors, parent]));
    },
  });
  return sites;
}

/**
 * NUL characters are refused at the door, as INVALID_PARAMETER naming the field: PostgreSQL cannot store
 * them in text, and no address, name or code holds one. Checked on variables and on string literals.
 */
function refuseNulCharacters(): Plugin {
  const refuse = (field: string) => ({ errors: [asGraphQLError(invalidParameter(field, `Invalid parameter \`${field}\`: text may not contain NUL characters.`))] });
  // Yoga caches parsed documents, so one document object serves every request with the same text: it
  // is walked once.
  const walked = new WeakMap<DocumentNode, NulSites>();
  const check = (args: { document: DocumentNode; variableValues?: Record<string, unknown> | null }) => {
    let sites = walked.get(args.document);
    if (!sites) {
      sites = nulSites(args.document);
      walked.set(args.document, sites);
    }
    for (const [name, value] of Object.entries(args.variableValues ?? {})) {
      const inside = nulPath(value);
      if (inside) return [...(sites.variables.get(name) ?? [name]), ...inside].join(".") || name;
    }
    return sites.literal;
  };
  return {
    onExecute({ args, setResultAndStopExecution }) {
      const field = check(args);
      if (field) setResultAndStopExecution(refuse(field));
    },
    onSubscribe({ args, setResultAndStopExecution }) {
      const field = check(args);
      if (field) setResultAndStopExecution(refuse(field));
    },
  };
}

/** The root fields an operation selects, through its fragments. */
function rootFields(document: DocumentNode, operationName: string | null | undefined): string[] {
  const operation = getOperationAST(document, operationName);
  if (!operation) return [];
  const fragments = new Map(document.definitions.flatMap((d) => (d.kind === Kind.FRAGMENT_DEFINITION ? [[d.name.value, d] as const] : [])));
  const names = new Set<string>();
  const seen = new Set<string>();
  const walk = (selections: readonly SelectionNode[]) => {
    for (const selection of selections) {
      if (selection.kind === Kind.FIELD) names.add(selection.name.value);
      else if (selection.kind === Kind.INLINE_FRAGMENT) walk(selection.selectionSet.selections);
      else if (!seen.has(selection.name.value)) {
        seen.add(selection.name.value);
        const fragment = fragments.get(selection.name.value);
        if (fragment) walk(fragment.selectionSet.selections);
      }
    }
  };
  walk(operation.selectionSet.selections);
  return [...names];
}

/** The sids a principal carries, for security logs (never the token itself). */
function principalSids(principal: Principal): Record<string, string> {
  switch (principal.kind) {
    case "apiKey":
      return { keySid: principal.keySid, serviceSid: principal.serviceSid };
    case "client":
      return { resourceSid: principal.resourceSid, serviceSid: principal.serviceSid };
    case "access":
      return { serviceSid: principal.serviceSid };
    case "device":
      return { factorSid: principal.factorSid, serviceSid: principal.serviceSid };
    default:
      return {};
  }
}

/**
 * Authentication and the access table are applied to every root field before anything else looks at
 * the request's input (the NUL check, variable coercion, the resolvers' own validation): a caller
 * without a token learns UNAUTHENTICATED, one whose kind may not call an operation FORBIDDEN, and
 * nothing about its input. The resolvers narrow the principal through the same table.
 */
function authorizeAtTheDoor(logger: Logger): Plugin<GatewayContext> {
  const judge = (args: { document: DocumentNode; operationName?: string | null; contextValue: GatewayContext }) => {
    const { principal } = args.contextValue;
    const operations = rootFields(args.document, args.operationName).filter(isOperation);
    const refusals = operations.map((operation) => refusal(principal, operation));
    if (refusals.includes("UNAUTHENTICATED")) return { errors: [asGraphQLError(unauthenticated())] };
    if (!refusals.includes("FORBIDDEN")) return null;
    const denied = operations.filter((_, i) => refusals[i] === "FORBIDDEN");
    logger.warn({ security: "access_denied", tokenKind: principal.kind, ...principalSids(principal), operations: denied }, "access denied");
    return { errors: [asGraphQLError(forbidden())] };
  };
  return {
    onExecute({ args, setResultAndStopExecution }) {
      const refused = judge(args);
      if (refused) setResultAndStopExecution(refused);
    },
    onSubscribe({ args, setResultAndStopExecution }) {
      const refused = judge(args);
      if (refused) setResultAndStopExecution(refused);
    },
  };
}

const subscriptionLimit = (message: string) => asGraphQLError(new VerifyError("SUBSCRIPTION_LIMIT", message));

/**
 * Every stream, over graphql-ws and SSE alike, is counted against its token (at most `perToken` open on
 * this instance) and ends when that token is revoked or expires, with an UNAUTHENTICATED result.
 */
function boundedStreams(gateway: Gateway, perToken: number, logger: Logger): Plugin<GatewayContext> {
  const ledger = new StreamLedger(perToken);
  return {
    onSubscribe({ args }) {
      const principal = args.contextValue.principal;
      return {
        onSubscribeResult({ result, setResult }) {
          // A refusal (unknown sid, FORBIDDEN, a limit) is a single result, not a stream: nothing to hold.
          if (!isAsyncIterable(result)) return;
          const life = tokenLife(principal);
          const release = ledger.take(life.holder);
          if (!release) {
            void result[Symbol.asyncIterator]().return?.();
            setResult({ errors: [subscriptionLimit(`This token already holds ${perToken} open subscriptions; close one first.`)] });
            return;
          }
          setResult(
            untilTokenEnds<ExecutionResult>(result, {
              bus: gateway.bus,
              life,
              now: () => gateway.clock.now(),
              farewell: (reason) => ({ errors: [asGraphQLError(unauthenticated(reason === "revoked" ? "The token of this stream was revoked." : "The token of this stream has expired."))] }),
              onEnd: (reason) => {
                release();
                if (reason) logger.info({ security: "stream_ended", reason, tokenKind: principal.kind, ...principalSids(principal) }, `stream ended: token ${reason}`);
              },
            }),
          );
        },
      };
    },
  };
}

/** graphql-js stops parsing past `maxTokens`, so a huge document costs little; it is a parse failure. */
function tokenLimit(maxTokens: number): Plugin {
  return {
    onParse({ setParseFn }) {
      setParseFn((source, options) => parse(source, { ...options, maxTokens }));
    },
  };
}

/**
 * The body of /health and /ready: `status` is "starting", "down" (the store is unreachable: nothing can be
 * served), "degraded" (Redis is down: this instance serves, alone) or "ok", then each dependency.
 */
async function healthReport(options: HttpOptions): Promise<{ serving: boolean; body: Record<string, string> }> {
  if (!options.isReady()) return { serving: false, body: { status: "starting" } };
  const { store, redis } = await options.dependencies();
  const state = (up: boolean) => (up ? "ok" : "down");
  const status = !store ? "down" : redis === false ? "degraded" : "ok";
  return { serving: store, body: { status, store: state(store), ...(redis === undefined ? {} : { redis: state(redis) }) } };
}

/**
 * GraphiQL (and other clients that cannot set connectionParams per tab) send the headers of each operation
 * inside the subscribe message: `extensions.headers.Authorization`. It wins over the socket's token.
 */
function operationAuthorization(extensions: Record<string, unknown> | null | undefined): string | null {
  const headers = extensions?.headers;
  if (!headers || typeof headers !== "object") return null;
  for (const [name, value] of Object.entries(headers)) if (name.toLowerCase() === "authorization" && typeof value === "string") return value;
  return null;
}

/** Headers every response carries, whatever answers it. */
function securityHeaders(req: IncomingMessage, res: ServerResponse, http: HttpConfig): void {
  res.setHeader("x-content-type-options", "nosniff");
  res.setHeader("referrer-policy", "no-referrer");
  // Browsers ignore Strict-Transport-Security over plain http, so a proxy's word for the scheme is enough.
  if (http.hsts || req.headers["x-forwarded-proto"] === "https") res.setHeader("strict-transport-security", "max-age=31536000; includeSubDomains");
}

/** `/metrics` in production only with `Authorization: Bearer <METRICS_TOKEN>`, compared in constant time. */
function metricsAllowed(req: IncomingMessage, http: HttpConfig): boolean {
  if (http.openMetrics) return true;
  if (!http.metricsToken) return false;
  const digest = (text: string) => createHash("sha256").update(text).digest();
  return timingSafeEqual(digest(req.headers.authorization ?? ""), digest(`Bearer ${http.metricsToken}`));
}

/**
 * GraphiQL's page is one HTML document with its scripts inline and its editor's workers from blob: URLs.
 * Its Content-Security-Policy allows exactly those inline scripts (by hash, computed from the page
 * rendered) and no framing.
 */
function graphiqlPage() {
  let rendered = "";
  let policy = "";
  const hashes = (html: string) => [...html.matchAll(/<script>([\s\S]*?)<\/script>/g)].map((m) => `'sha256-${createHash("sha256").update(m[1]).digest("base64")}'`);
  return {
    render(options: Parameters<typeof renderGraphiQL>[0]): string {
      const html = renderGraphiQL(options);
      if (html !== rendered) {
        rendered = html;
        policy = pagePolicy({ scriptHashes: hashes(html), blobWorkers: true, inlineAssets: true });
      }
      return html;
    },
    /** Sets the policy on the page's response (yoga answers GraphiQL as text/html, and nothing else). */
    plugin(): Plugin {
      return {
        onResponse({ response }) {
          if (policy && response.headers.get("content-type")?.startsWith("text/html")) response.headers.set("content-security-policy", policy);
        },
      };
    },
  };
}

/**
 * Production hides the schema unless GRAPHQL_INTROSPECTION is on: introspection answers
 * GRAPHQL_VALIDATION_FAILED, and no error suggests a field, argument or enum value ("Did you mean …").
 */
function hideSchema(): Plugin {
  // Variables are coerced by graphql-js' coerceInputValue, which the executor calls without its
  // hideSuggestions option: their errors lose the suggestion here instead.
  const suggestion = / ?Did you mean [^?]*\?/g;
  const withoutSuggestions = (result: { errors?: readonly GraphQLError[] }, setResult: (result: never) => void) => {
    if (!result.errors?.some((e) => e.message.match(suggestion))) return;
    const errors = result.errors.map((e) => new GraphQLError(e.message.replace(suggestion, ""), { nodes: e.nodes, path: e.path, originalError: e.originalError, extensions: e.extensions }));
    setResult({ ...result, errors } as never);
  };
  return {
    onValidate({ addValidationRule, setValidationFn }) {
      addValidationRule(NoSchemaIntrospectionCustomRule);
      // envelop calls (schema, document, rules, typeInfo, options); graphql-js takes options before typeInfo.
      setValidationFn((schema, document, rules, typeInfo) => validate(schema, document, rules, { hideSuggestions: true }, typeInfo));
    },
    onExecute: () => ({
      onExecuteDone: ({ result, setResult }) => {
        if (!isAsyncIterable(result)) withoutSuggestions(result, setResult);
      },
    }),
    onSubscribe: () => ({
      onSubscribeResult: ({ result, setResult }) => {
        if (!isAsyncIterable(result)) withoutSuggestions(result, setResult);
      },
    }),
  };
}

/** CORS: today's "any origin" unless a list is configured (production: none unless listed). */
function corsPolicy(origins: string[] | null) {
  if (origins === null) return undefined;
  return (request: Request) => {
    const origin = request.headers.get("origin");
    return origin && origins.includes(origin) ? { origin: [origin], credentials: false } : false;
  };
}

export function buildHttp(options: HttpOptions) {
  const { gateway, auth, logger } = options;
  // armor throws from inside validation by default (an error without a code); reported as validation
  // errors instead, they answer GRAPHQL_VALIDATION_FAILED like graphql-js's own rules.
  const reject = {
    propagateOnRejection: false,
    onReject: [
      (context: ValidationContext | null, error: GraphQLError) =>
        context?.reportError(new GraphQLError(error.message.replace(/^Syntax Error: /, ""), { extensions: { code: "GRAPHQL_VALIDATION_FAILED" } })),
    ],
  };
  const armor = new EnvelopArmor({
    maxDepth: { n: queryLimits.maxDepth, ...reject },
    // Aliases of __typename cost a resolver call each like any other (armor lets them through by default).
    maxAliases: { n: queryLimits.maxAliases, allowList: [], ...reject },
    costLimit: { maxCost: queryLimits.maxCost, ...reject },
    maxDirectives: { ...reject },
    // graphql-js enforces the token limit itself while parsing (see tokenLimit).
    maxTokens: { enabled: false },
  });

  const graphiql = graphiqlPage();
  const yoga: YogaServerInstance<InitialContext, GatewayContext> = createYoga<InitialContext, GatewayContext>({
    schema: options.schema,
    graphqlEndpoint: "/graphql",
    landingPage: false,
    graphiql: options.graphiql ? { title: "Verigate GraphiQL", subscriptionsProtocol: "WS" } : false,
    renderGraphiQL: (graphiqlOptions) => graphiql.render(graphiqlOptions),
    cors: corsPolicy(options.http.corsOrigins),
    maskedErrors: { maskError: errorMasker() },
    logging: {
      debug: (...args) => logger.debug(args.map(String).join(" ")),
      info: (...args) => logger.info(args.map(String).join(" ")),
      warn: (...args) => logger.warn(args.map(String).join(" ")),
      // Yoga logs every error it masks or converts; a domain error is an answer, not a fault.
      error: (first: unknown, ...rest) => {
        const original = first instanceof GraphQLError ? first.originalError : first;
        if (original instanceof VerifyError) logger.debug({ code: original.code }, original.message);
        // A GraphQL error of its own (variables that do not coerce, validation) is the client's mistake.
        else if (first instanceof GraphQLError && (!original || original instanceof GraphQLError)) logger.debug({ code: first.extensions?.code }, first.message);
        else if (first instanceof Error) logger.error({ err: original ?? first }, "request failed");
        else logger.error([first, ...rest].map(String).join(" "));
      },
    },
    plugins: [
      tokenLimit(queryLimits.maxTokens),
      ...armor.protect().plugins,
      authorizeAtTheDoor(logger),
      refuseNulCharacters(),
      boundedStreams(gateway, options.limits.perToken, logger),
      graphiql.plugin(),
      ...(options.http.introspection ? [] : [hideSchema()]),
    ],
    context: async ({ request, principal, req, clientAddress }): Promise<GatewayContext> => ({
      principal: principal ?? (request ? await auth.resolve(request.headers.get("authorization")) : ANONYMOUS),
      gateway,
      clientAddress: clientAddress ?? req?.socket.remoteAddress ?? null,
    }),
  });

  const { http } = options;
  // The common POST served without yoga's HTTP layer (answered exactly as yoga would); the rest goes to yoga.
  const fast = http.fastPath ? fastPath(yoga) : null;
  const serverOptions = {
    headersTimeout: http.headersTimeoutMs,
    requestTimeout: http.requestTimeoutMs,
    keepAliveTimeout: http.keepAliveTimeoutMs,
    // Node enforces the two timeouts above when it next checks its connections (every 30 s by default).
    connectionsCheckingInterval: Math.min(1_000, http.headersTimeoutMs),
  };
  const server: Server = createServer(serverOptions, (req: IncomingMessage, res: ServerResponse) => {
    const path = (req.url ?? "/").split("?")[0];
    securityHeaders(req, res, http);
    if (Number(req.headers["content-length"] ?? 0) > http.maxBodyBytes) return payloadTooLarge(res, http.maxBodyBytes);
    if (path === "/health" || path === "/ready") {
      healthReport(options).then(
        ({ serving, body }) => {
          // /health fails only while the instance cannot serve at all; Redis down is "degraded", still 200.
          res.writeHead(serving ? 200 : 503, { "content-type": "application/json", "cache-control": "no-store" });
          res.end(JSON.stringify(body));
        },
        () => res.writeHead(503).end(),
      );
      return;
    }
    if (path === "/metrics") {
      if (!metricsAllowed(req, http)) {
        // Without a token configured, production has no /metrics at all.
        if (http.metricsToken) res.writeHead(401, { "content-type": "application/json", "www-authenticate": "Bearer" }).end(JSON.stringify({ error: "unauthorized" }));
        else res.writeHead(404, { "content-type": "application/json" }).end(JSON.stringify({ error: "not found" }));
        return;
      }
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
      if (req.method === "GET" || req.method === "HEAD") return void yoga(req, res);
      readBody(req, http.maxBodyBytes).then(
        (body) => {
          if (!body) return payloadTooLarge(res, http.maxBodyBytes);
          const served = fast?.serve(req, res, body) ?? false;
          options.metrics.graphqlPost(served);
          if (served) return;
          // Yoga reads a body already read from `req.body`, as it does behind Express' body parsers.
          Object.assign(req, { body });
          void yoga(req, res);
        },
        () => res.destroy(),
      );
      return;
    }
    const notFound = () => {
      if (!res.headersSent) res.writeHead(404, { "content-type": "application/json" }).end(JSON.stringify({ error: "not found" }));
    };
    if (!options.routes) return notFound();
    let url: URL;
    try {
      url = new URL(req.url ?? "/", "http://gateway");
    } catch {
      // Node accepts request targets that the URL parser refuses ("//%"); they name nothing here.
      return notFound();
    }
    options.routes(req, res, url).then(
      (handled) => handled || notFound(),
      (error: unknown) => {
        // The store is away: the caller (a carrier, a vendor, a device) should come back, not give up.
        if (error instanceof BodyTooLarge) return payloadTooLarge(res, error.limit);
        const unavailable = error instanceof VerifyError && error.code === "SERVICE_UNAVAILABLE";
        // The route's first segment only: the rest of an SNA path is its bearer token.
        logger.warn({ err: error, route: path.split("/")[1] }, "callback failed");
        if (!res.headersSent) res.writeHead(unavailable ? 503 : 400, unavailable ? { "retry-after": "5" } : {}).end();
      },
    );
  });

  // Past the cap, Node closes a new connection at once (WebSockets and SSE streams count too).
  server.maxConnections = http.maxConnections;

  // A WebSocket message is bounded like a request body: past it, ws closes the socket with 1009 unparsed.
  const wss = new WebSocketServer({ server, path: "/graphql", maxPayload: http.maxBodyBytes });
  // Sockets per client address: one more than the cap is closed at once, before graphql-ws greets it.
  const socketsByAddress = new Map<string, number>();
  wss.on("connection", (socket, req) => {
    const address = req.socket.remoteAddress ?? "unknown";
    const count = socketsByAddress.get(address) ?? 0;
    if (count >= options.limits.socketsPerAddress) {
      logger.warn({ security: "socket_limit", address, limit: options.limits.socketsPerAddress }, "too many sockets from one address");
      socket.close(4429, "Too many sockets from this address");
      return;
    }
    socketsByAddress.set(address, count + 1);
    socket.once("close", () => {
      const left = (socketsByAddress.get(address) ?? 1) - 1;
      if (left === 0) socketsByAddress.delete(address);
      else socketsByAddress.set(address, left);
    });
  });
  const ws = useServer<Record<string, unknown>, { authorization: string | null }>(
    {
      // A bad token closes the socket with 4403 (Forbidden); no token leaves the connection anonymous.
      onConnect: async (ctx) => {
        const header = ctx.connectionParams?.authorization ?? ctx.connectionParams?.Authorization;
        ctx.extra.authorization = typeof header === "string" ? header : null;
        try {
          await auth.resolve(ctx.extra.authorization);
          return true;
        } catch (error) {
          // A store outage is no verdict on the token: the socket opens, and each operation is answered
          // SERVICE_UNAVAILABLE until the store is back (then the token is judged).
          return error instanceof VerifyError && error.code === "SERVICE_UNAVAILABLE";
        }
      },
      execute: (args) => (args.rootValue as { execute: (a: unknown) => never }).execute(args),
      subscribe: (args) => (args.rootValue as { subscribe: (a: unknown) => never }).subscribe(args),
      onSubscribe: async (ctx, _id, params) => {
        // Resolved again for every operation, so a key revoked (or a token expired) since the socket
        // opened stops working at once.
        let principal: Principal;
        try {
          principal = await auth.resolve(operationAuthorization(params.extensions) ?? ctx.extra.authorization ?? null);
        } catch (error) {
          return [error instanceof VerifyError ? asGraphQLError(error) : asGraphQLError(unauthenticated())];
        }
        const { schema, execute, subscribe, contextFactory, parse, validate } = yoga.getEnveloped({ principal, params, clientAddress: ctx.extra.request.socket.remoteAddress ?? null });
        let document: ReturnType<typeof parse>;
        try {
          document = parse(params.query);
        } catch (error) {
          return [error instanceof GraphQLError ? error : new GraphQLError(String(error))];
        }
        const errors = validate(schema, document);
        if (errors.length > 0) return errors;
        // graphql-ws registers the operation before this hook runs, so the count includes it.
        if (getOperationAST(document, params.operationName)?.operation === "subscription" && Object.keys(ctx.subscriptions).length > options.limits.perSocket) {
          return [subscriptionLimit(`This socket already holds ${options.limits.perSocket} open subscriptions; close one or open another socket.`)];
        }
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
