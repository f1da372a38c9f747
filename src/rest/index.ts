import type { IncomingMessage, ServerResponse } from "node:http";
import type { Logger } from "pino";
import { VerifyError } from "../domain/errors.js";
import type { Gateway } from "../schema/context.js";
import { attemptRoutes } from "./attempts.js";
import { BodyTooLarge, readBody } from "../server/body.js";
import type { Authenticator } from "../server/auth.js";
import { RestError, body as errorBody, restNotFound, twilioError } from "./errors.js";
import { Params } from "./form.js";
import { type RestContext, type Route, Router } from "./router.js";
import { formRoutes } from "./forms.js";
import { rateLimitRoutes } from "./limits.js";
import { messagingRoutes } from "./messaging.js";
import { safeListRoutes } from "./safelist.js";
import { factorsRoutes } from "./factors.js";
import { passkeyRoutes } from "./passkeys.js";
import { serviceRoutes } from "./services.js";
import { templateRoutes } from "./templates.js";
import { verificationRoutes } from "./verifications.js";
import { webhookRoutes } from "./webhooks.js";

export interface RestDeps {
  gateway: Gateway;
  auth: Authenticator;
  logger: Logger;
  accountSid: () => string;
  /** The public base URL (PUBLIC_URL, else the listening address). */
  publicUrl: () => string;
  maxBodyBytes: number;
}

/** The password of an HTTP Basic header resolveBasic has accepted. */
function basicPassword(authorization: string): string {
  const decoded = Buffer.from(authorization.trim().replace(/^Basic\s+/i, ""), "base64").toString("utf8");
  return decoded.slice(decoded.indexOf(":") + 1);
}

const unauthenticatedRest = () => new RestError(401, 20003, "Authenticate: HTTP Basic with the account sid and admin key, or an API key's sid and secret.");

/** Every operation of the REST API: one line per resource family. */
export const restRoutes = (): Route[] => [
  ...serviceRoutes,
  ...verificationRoutes,
  ...webhookRoutes,
  ...attemptRoutes,
  ...rateLimitRoutes,
  ...safeListRoutes,
  ...messagingRoutes,
  ...formRoutes,
  ...factorsRoutes,
  ...passkeyRoutes,
  ...templateRoutes,
];

/**
 * Twilio's Verify v2 REST API under /v2, a second adapter on the domain beside GraphQL (README "Coming
 * from Twilio"): same domain calls, same access rules, same events. Answers true when it took the request.
 */
export function restApi(deps: RestDeps) {
  const router = new Router(restRoutes());
  return async (req: IncomingMessage, res: ServerResponse, url: URL): Promise<boolean> => {
    if (url.pathname !== "/v2" && !url.pathname.startsWith("/v2/")) return false;
    const send = (status: number, payload?: unknown, headers: Record<string, string> = {}) => {
      if (res.headersSent) return;
      if (payload === undefined) {
        res.writeHead(status, headers);
        res.end();
        return;
      }
      const text = JSON.stringify(payload);
      res.writeHead(status, { "content-type": "application/json; charset=utf-8", "cache-control": "no-store", ...headers });
      res.end(text);
    };
    try {
      const found = router.match(req.method ?? "GET", url.pathname.replace(/\/$/, "").replace(/\.json$/, ""));
      if (!found) throw restNotFound(`The requested resource ${url.pathname}`);
      if ("methods" in found) {
        send(405, errorBody(405, 20004, `Method ${req.method} is not allowed on ${url.pathname}.`), { allow: found.methods.join(", ") });
        return true;
      }
      // Who calls is settled before any parameter is read (a bad key never learns what a bad input would say).
      const authorization = req.headers.authorization;
      if (!authorization) throw unauthenticatedRest();
      const basic = /^Basic\s/i.test(authorization);
      const principal = await (basic ? deps.auth.resolveBasic(authorization) : deps.auth.resolve(authorization)).catch((error) => {
        // The domain's refusal speaks of bearer tokens (GraphQL's words): said here as a REST caller authenticates.
        throw error instanceof VerifyError && error.code === "UNAUTHENTICATED" ? unauthenticatedRest() : error;
      });
      let params: Params;
      let json: unknown;
      if (req.method === "POST") {
        const raw = await readBody(req, deps.maxBodyBytes);
        if (raw === null) throw new BodyTooLarge(deps.maxBodyBytes);
        if (/^application\/json\b/i.test(req.headers["content-type"] ?? "")) {
          // Twilio's Passkeys endpoints: a JSON body, not a form.
          try {
            json = JSON.parse(raw.toString("utf8"));
          } catch {
            throw new RestError(400, 60200, "Invalid JSON body.");
          }
          params = new Params([]);
        } else {
          params = Params.fromForm(raw.toString("utf8"));
        }
        // The query string is not a second body: a POST's parameters are its form.
      } else {
        params = new Params(url.searchParams);
      }
      const context: RestContext = { gateway: deps.gateway, principal, accountSid: deps.accountSid(), base: deps.publicUrl(), url, log: deps.logger };
      if (basic) context.credential = basicPassword(authorization);
      const answer = await found.route.handle({ path: found.path, params, json }, context);
      send(answer.status, answer.body, answer.headers);
    } catch (error) {
      if (error instanceof BodyTooLarge) {
        send(413, errorBody(413, 60200, error.message), { connection: "close" });
        return true;
      }
      const known = twilioError(error);
      if (known) {
        send(known.status, known.body, known.headers);
        return true;
      }
      deps.logger.error({ err: error, path: url.pathname }, "REST request failed");
      send(500, errorBody(500, 20500, "Internal Server Error"));
    }
    return true;
  };
}
