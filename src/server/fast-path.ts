import { isUtf8 } from "node:buffer";
import type { IncomingMessage, ServerResponse } from "node:http";
import { type DocumentNode, type ExecutionResult, GraphQLError, getOperationAST } from "graphql";
import { type YogaServerInstance, createGraphQLError, isAsyncIterable } from "graphql-yoga";

/**
 * The common `POST /graphql` served from node:http straight into yoga's own envelop pipeline
 * (`yoga.getEnveloped`: the same parser and validation cache, query limits, door, NUL refusal and error
 * masking), without yoga's fetch-API emulation (a Request and a Response per call, CORS, its body handling).
 *
 * Only a request whose answer is known to be exactly yoga's is served here: a JSON body holding one
 * operation, a query or a mutation that parses and validates, no `Origin` (a browser's request gets its CORS
 * headers from yoga), an `Accept` that yoga answers with JSON. Everything else (`serve` answers false before
 * anything with an effect has run) goes on to yoga, which answers it as before, errors included.
 */

/** What yoga keeps to itself and the fast path needs: its error masking (with its logging) and its hooks. */
interface YogaInternals {
  logger: { debug: (...args: unknown[]) => void; error: (...args: unknown[]) => void };
  maskedErrorsOpts?: { errorMessage: string; isDev?: boolean; maskError: (error: unknown, message: string, isDev?: boolean) => Error } | null;
  onParamsHooks?: unknown[];
  onExecutionResultHooks?: unknown[];
  onResultProcessHooks?: unknown[];
}

interface Params {
  query: string;
  variables?: Record<string, unknown> | null;
  operationName?: string | null;
  extensions?: Record<string, unknown> | null;
}

const MAX_CACHED_DOCUMENTS = 1000;
const MAX_CACHED_QUERY = 16 * 1024;

const PARAMS = new Set(["query", "variables", "operationName", "extensions"]);

/** The content types yoga reads as JSON that are also UTF-8 for certain (yoga decodes every JSON body as UTF-8). */
const JSON_BODY = /^application\/json(; ?charset=(utf-8|UTF-8))?$/;

/**
 * The media type yoga answers a single (non-stream) result with for this Accept header: its result
 * processors (SSE, multipart, then the two JSON types) against the accepted types, the last match winning.
 * Null unless that is one of the two JSON types.
 */
function answeredMediaType(accept: string | undefined): string | null {
  if (accept === undefined || accept === "*/*" || accept === "application/json") return "application/json";
  if (accept === "application/graphql-response+json") return "application/graphql-response+json";
  const asked: string[] = [];
  for (const entry of (accept || "*/*").replace(/\s/g, "").toLowerCase().split(",")) {
    const [type, ...parameters] = entry.split(";");
    if ((parameters.find((p) => p.includes("charset=")) ?? "charset=utf-8") === "charset=utf-8") asked.push(type);
  }
  asked.reverse();
  const matches = (offered: string, wanted: string) => {
    const [pre, suf] = wanted.split("/");
    const [offeredPre, offeredSuf] = offered.split("/");
    return (pre === "*" || pre === offeredPre) && (suf === "*" || suf === offeredSuf);
  };
  let chosen: string | null = null;
  for (const offered of [["text/event-stream"], ["multipart/mixed"], ["application/graphql-response+json", "application/json"]]) {
    for (const wanted of asked) for (const type of offered) if (matches(type, wanted)) chosen = type;
  }
  return chosen === "application/json" || chosen === "application/graphql-response+json" ? chosen : null;
}

/** The body's GraphQL parameters when they are exactly what yoga accepts without remark, or null. */
function graphqlParams(body: Buffer): Params | null {
  if (body.length === 0 || !isUtf8(body)) return null;
  let params: unknown;
  try {
    params = JSON.parse(body.toString("utf8"));
  } catch {
    return null;
  }
  if (params === null || typeof params !== "object" || Array.isArray(params)) return null;
  const record = params as Record<string, unknown>;
  for (const key in record) if (!PARAMS.has(key)) return null;
  const isObject = (value: unknown) => value == null || (typeof value === "object" && !Array.isArray(value));
  if (typeof record.query !== "string" || !isObject(record.variables) || !isObject(record.extensions)) return null;
  if (record.operationName != null && typeof record.operationName !== "string") return null;
  return record as unknown as Params;
}

// Yoga's answer, rebuilt from graphql-yoga 5's `processRegularResult`, `getResponseInitByRespectingErrors`,
// `jsonStringifyResultWithoutInternals` and `handleError`: the test "fast path and yoga answer alike" holds
// them to it byte for byte.

function isOriginalGraphQLError(error: unknown): boolean {
  if (!(error instanceof GraphQLError)) return false;
  return error.originalError != null ? isOriginalGraphQLError(error.originalError) : true;
}

type HttpExtension = { status?: number; headers?: Record<string, string>; spec?: boolean };

function responseStatus(result: ExecutionResult, headers: Record<string, string>, isApplicationJson: boolean): number {
  let status: number | undefined;
  let unexpectedErrorExists = false;
  const http = result.extensions?.http as HttpExtension | undefined;
  if (http) {
    if (http.headers) Object.assign(headers, http.headers);
    if (http.status) status = http.status;
  }
  if (result.errors?.length) {
    for (const error of result.errors) {
      const errorHttp = error.extensions?.http as HttpExtension | undefined;
      if (errorHttp) {
        if (errorHttp.headers) Object.assign(headers, errorHttp.headers);
        if (isApplicationJson && errorHttp.spec) continue;
        if (errorHttp.status && (!status || errorHttp.status > status)) status = errorHttp.status;
      } else if (!isOriginalGraphQLError(error) || error.extensions?.unexpected) unexpectedErrorExists = true;
    }
  } else status ||= 200;
  return status ?? (unexpectedErrorExists && !("data" in result) ? 500 : 200);
}

function withoutInternals(error: unknown): unknown {
  if (!(error instanceof GraphQLError)) return error;
  const { http: _http, unexpected: _unexpected, ...extensions } = error.toJSON().extensions ?? {};
  return createGraphQLError(error.message, {
    nodes: error.nodes,
    source: error.source,
    positions: error.positions,
    path: error.path,
    originalError: withoutInternals(error.originalError ?? undefined) as Error | undefined,
    extensions: Object.keys(extensions).length ? extensions : undefined,
  });
}

function resultText(result: ExecutionResult & { stringify?: (value: unknown) => string }): string {
  const stringify = result.stringify ?? JSON.stringify;
  if (!result.errors?.length && !result.extensions?.http) return stringify(result);
  const sanitized: Record<string, unknown> = { ...result };
  if (sanitized.errors) sanitized.errors = result.errors?.map(withoutInternals);
  if (result.extensions) {
    const { http: _http, ...extensions } = result.extensions;
    sanitized.extensions = Object.keys(extensions).length ? extensions : undefined;
  }
  return stringify(sanitized);
}

function isAbortError(error: unknown): boolean {
  const e = error as { constructor?: { name?: string }; name?: string } | null;
  return typeof e === "object" && e?.constructor?.name === "DOMException" && (e.name === "AbortError" || e.name === "TimeoutError");
}

export interface FastPath {
  /**
   * Serves the request and answers true, or answers false having done nothing (the caller hands the request
   * to yoga). `body` is the whole body, already within its cap.
   */
  serve(req: IncomingMessage, res: ServerResponse, body: Buffer): boolean;
}

// biome-ignore lint/suspicious/noExplicitAny: yoga's instance is typed by its contexts, which the path passes through as they are.
export function fastPath(yoga: YogaServerInstance<any, any>): FastPath | null {
  const internals = yoga as unknown as YogaInternals;
  const masking = internals.maskedErrorsOpts;
  // Only the hooks this path replays (yoga's own parameter check and result processor) may be there: a
  // plugin hooking into yoga's HTTP handling (a new onParams, onExecutionResult or onResultProcess) turns
  // the fast path off, so that it never answers what yoga would answer otherwise.
  if (!masking || internals.onParamsHooks?.length !== 1 || internals.onExecutionResultHooks?.length !== 0 || internals.onResultProcessHooks?.length !== 1) return null;

  const handleError = (error: unknown): GraphQLError[] => {
    const errors = new Set<GraphQLError>();
    if (error != null && typeof error === "object" && "errors" in error && Array.isArray(error.errors)) {
      for (const single of error.errors) for (const handled of handleError(single)) errors.add(handled);
    } else if (isAbortError(error)) internals.logger.debug("Request aborted");
    else {
      const masked = masking.maskError(error, masking.errorMessage, masking.isDev);
      if (masked !== error) internals.logger.error(error);
      errors.add(masked instanceof GraphQLError ? masked : createGraphQLError(masked.message, { originalError: masked }));
    }
    return [...errors];
  };

  // Documents that parsed and validated, by their text: parsing and validation depend on nothing else (yoga's
  // own caches rely on it), so a document seen before skips both and their hooks. Small documents only, and
  // a bounded number of them (the oldest goes first).
  const valid = new Map<string, DocumentNode>();

  /** The document, or null for yoga to answer: syntax errors, the token limit, validation errors (the query limits among them). */
  const parsedAndValid = (enveloped: ReturnType<typeof yoga.getEnveloped>, query: string): DocumentNode | null => {
    try {
      const document = enveloped.parse(query);
      if (enveloped.validate(enveloped.schema, document).length > 0) return null;
      if (query.length <= MAX_CACHED_QUERY) {
        if (valid.size >= MAX_CACHED_DOCUMENTS) valid.delete(valid.keys().next().value as string);
        valid.set(query, document);
      }
      return document;
    } catch {
      return null;
    }
  };

  const answer = (res: ServerResponse, result: ExecutionResult, mediaType: string) => {
    if (res.destroyed || res.writableEnded) return;
    const headers: Record<string, string> = { "Content-Type": `${mediaType}; charset=utf-8` };
    const isApplicationJson =
      mediaType === "application/json" &&
      Array.isArray(result.errors) &&
      result.errors.length > 0 &&
      result.errors.some((e) => e instanceof GraphQLError) &&
      result.errors.some((e) => !e.extensions?.originalError || e.extensions.originalError instanceof GraphQLError);
    const status = responseStatus(result, headers, isApplicationJson);
    const text = resultText(result);
    headers["content-length"] = String(Buffer.byteLength(text));
    res.writeHead(status, headers);
    res.end(text);
  };

  const run = async (res: ServerResponse, enveloped: ReturnType<typeof yoga.getEnveloped>, document: DocumentNode, params: Params, mediaType: string) => {
    let result: ExecutionResult;
    try {
      const contextValue = await enveloped.contextFactory();
      const executed = await enveloped.execute({ schema: enveloped.schema, document, contextValue, variableValues: params.variables, operationName: params.operationName });
      if (isAsyncIterable(executed)) {
        // Never for a query or a mutation without @defer/@stream (which this schema does not offer); yoga's answer.
        void executed[Symbol.asyncIterator]().return?.();
        if (!res.destroyed && !res.writableEnded) {
          res.writeHead(406, "Not Acceptable", { accept: "application/json; charset=utf-8, application/graphql-response+json; charset=utf-8" }).end();
        }
        return;
      }
      result = executed as ExecutionResult;
    } catch (error) {
      result = { errors: handleError(error) };
    }
    try {
      answer(res, result, mediaType);
    } catch (error) {
      // A result that does not serialize: yoga answers its error instead.
      answer(res, { errors: handleError(error) }, mediaType);
    }
  };

  return {
    serve(req, res, body) {
      if (req.method !== "POST" || req.headers.origin !== undefined) return false;
      const contentType = req.headers["content-type"];
      if (contentType === undefined || !JSON_BODY.test(contentType)) return false;
      const mediaType = answeredMediaType(req.headers.accept);
      if (!mediaType) return false;
      const params = graphqlParams(body);
      if (!params) return false;
      // What yoga's plugins and the context factory read of the request: its method and its headers.
      const request = {
        method: "POST",
        url: req.url,
        headers: {
          get: (name: string): string | null => {
            const value = req.headers[name.toLowerCase()];
            return value === undefined ? null : Array.isArray(value) ? value.join(", ") : value;
          },
        },
      };
      const enveloped = yoga.getEnveloped({ req, res, request, params });
      const document = valid.get(params.query) ?? parsedAndValid(enveloped, params.query);
      if (!document) return false;
      const operation = getOperationAST(document, params.operationName);
      if (!operation || operation.operation === "subscription") return false;
      run(res, enveloped, document, params, mediaType).catch(() => res.destroy());
      return true;
    },
  };
}
