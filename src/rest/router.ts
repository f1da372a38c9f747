import type { Logger } from "pino";
import type { Principal } from "../domain/access/principal.js";
import type { Page } from "../domain/types.js";
import type { Gateway } from "../schema/context.js";
import { VerifyError } from "../domain/errors.js";
import { invalidRestParameter } from "./errors.js";
import type { Params } from "./form.js";

/** What a REST handler may reach: the same domain entry points as the GraphQL resolvers, and the caller. */
export interface RestContext {
  gateway: Gateway;
  /** The caller (HTTP Basic as Twilio's SDKs send it, or a bearer token). */
  principal: Principal;
  /** The HTTP Basic password the caller authenticated with (Twilio's auth token): what signs its Twilio-format webhooks. */
  credential?: string;
  /** The account sid every resource shows (`account_sid`). */
  accountSid: string;
  /** The public base URL resources' `url` and `links` start with (no trailing slash). */
  base: string;
  /** The request's path and query, for paging `meta.url`. */
  url: URL;
  log: Logger;
}

export interface RestRequest {
  /** Path parameters by the names of the spec's path template (`ServiceSid`, `Sid`, …). */
  path: Record<string, string>;
  /** The form body (POST) or the query string (GET, DELETE). */
  params: Params;
  /** A JSON body (Twilio's Passkeys endpoints take `application/json`), else undefined. */
  json?: unknown;
}

export interface RestAnswer {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

export type Handler = (request: RestRequest, context: RestContext) => Promise<RestAnswer>;

/** One operation of Twilio's Verify v2 REST API: its method and its path as the spec writes it. */
export interface Route {
  method: "GET" | "POST" | "DELETE";
  /** e.g. `/v2/Services/{ServiceSid}/Verifications/{Sid}` */
  path: string;
  handle: Handler;
}

interface Compiled extends Route {
  pattern: RegExp;
  names: string[];
}

/** Finds the route for a method and path; literal segments win over parameters (`/Attempts/Summary`). */
export class Router {
  private readonly compiled: Compiled[];

  constructor(routes: Route[]) {
    this.compiled = routes
      .map((route) => {
        const names: string[] = [];
        const source = route.path.replace(/\{(\w+)\}/g, (_, name: string) => {
          names.push(name);
          return "([^/]+)";
        });
        return { ...route, names, pattern: new RegExp(`^${source}$`) };
      })
      .sort((a, b) => a.names.length - b.names.length);
  }

  /** The route and its path parameters; `methods` lists what the path allows when the method does not match. */
  match(method: string, path: string): { route: Compiled; path: Record<string, string> } | { methods: string[] } | null {
    const methods: string[] = [];
    for (const route of this.compiled) {
      const m = route.pattern.exec(path);
      if (!m) continue;
      if (route.method !== method) {
        methods.push(route.method);
        continue;
      }
      const values: Record<string, string> = {};
      route.names.forEach((name, i) => {
        values[name] = safeDecode(m[i + 1]);
      });
      return { route, path: values };
    }
    return methods.length > 0 ? { methods } : null;
  }
}

function safeDecode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

/** Twilio's date format in Verify v2 answers: ISO 8601 in UTC without milliseconds. */
export const iso = (ms: number | null | undefined): string | null => (ms == null ? null : new Date(ms).toISOString().replace(/\.\d{3}Z$/, "Z"));

/** The Twilio list page: `{ [key]: items, meta: { page, page_size, first_page_url, previous_page_url, url, next_page_url, key } }`. */
export async function listPage<T>(
  request: RestRequest,
  context: RestContext,
  key: string,
  fetch: (page: { first: number; after: string | null }) => Promise<Page<T>>,
  present: (item: T) => unknown,
): Promise<RestAnswer> {
  const params = request.params;
  const pageSize = params.int("PageSize", { min: 1, max: 1000 }) ?? 50;
  const pageNumber = params.int("Page", { min: 0 }) ?? 0;
  const token = params.string("PageToken") ?? null;
  // The store pages at most 100 at a time; meta.page_size says what this page holds at most.
  const first = Math.min(pageSize, 100);
  const page = await fetch({ first, after: token }).catch((error) => {
    // The store names its cursor `after` (GraphQL's word); a REST caller sent a PageToken.
    throw error instanceof VerifyError && error.code === "INVALID_PARAMETER" && token !== null && /`after`/.test(error.message)
      ? invalidRestParameter("PageToken", "not a page token this API returned")
      : error;
  });
  const here = new URL(`${context.base}${context.url.pathname}`);
  const filters = [...context.url.searchParams].filter(([name]) => name !== "PageSize" && name !== "Page" && name !== "PageToken");
  const at = (n: number, pageToken: string | null) => {
    const u = new URL(here);
    for (const [name, value] of filters) u.searchParams.append(name, value);
    u.searchParams.set("PageSize", String(first));
    u.searchParams.set("Page", String(n));
    if (pageToken) u.searchParams.set("PageToken", pageToken);
    return u.toString();
  };
  return {
    status: 200,
    body: {
      [key]: page.edges.map((e) => present(e.node)),
      meta: {
        page: pageNumber,
        page_size: first,
        first_page_url: at(0, null),
        previous_page_url: null,
        url: at(pageNumber, token),
        next_page_url: page.hasNextPage && page.endCursor ? at(pageNumber + 1, page.endCursor) : null,
        key,
      },
    },
  };
}

/** A whole list the domain keeps in memory (a service's rate limits, webhooks…), paged the same way. */
export function pageOf<T>(items: T[]): (page: { first: number; after: string | null }) => Promise<Page<T>> {
  return async ({ first, after }) => {
    const start = after && /^\d{1,9}$/.test(after) ? Number(after) : 0;
    const slice = items.slice(start, start + first);
    const end = start + slice.length;
    return { edges: slice.map((node, i) => ({ cursor: String(start + i + 1), node })), hasNextPage: end < items.length, endCursor: String(end) };
  };
}
