import { findBucket, findRateLimit } from "../domain/service/rate-limits.js";
import type { NamedRateLimit, NamedRateLimitBucket } from "../domain/types.js";
import { type RestContext, type Route, iso, listPage, pageOf } from "./router.js";
import { scopedService } from "./services.js";

/** A programmable rate limit as Twilio's `verify.v2.service.rate_limit`. */
function presentRateLimit(serviceSid: string, l: NamedRateLimit, c: RestContext) {
  const url = `${c.base}/v2/Services/${serviceSid}/RateLimits/${l.sid}`;
  return {
    sid: l.sid,
    service_sid: serviceSid,
    account_sid: c.accountSid,
    unique_name: l.uniqueName,
    description: l.description,
    date_created: iso(l.dateCreated),
    date_updated: iso(l.dateUpdated),
    url,
    links: { buckets: `${url}/Buckets` },
  };
}

/** A bucket as Twilio's `verify.v2.service.rate_limit.bucket`. */
function presentBucket(serviceSid: string, rateLimitSid: string, b: NamedRateLimitBucket, c: RestContext) {
  return {
    sid: b.sid,
    rate_limit_sid: rateLimitSid,
    service_sid: serviceSid,
    account_sid: c.accountSid,
    max: b.max,
    interval: b.interval,
    date_created: iso(b.dateCreated),
    date_updated: iso(b.dateUpdated),
    url: `${c.base}/v2/Services/${serviceSid}/RateLimits/${rateLimitSid}/Buckets/${b.sid}`,
  };
}

const limits = "/v2/Services/{ServiceSid}/RateLimits";
const buckets = `${limits}/{RateLimitSid}/Buckets`;

/** Twilio's RateLimits and Buckets: the service's programmable rate limits (`rateLimits.named`), one at a time. */
export const rateLimitRoutes: Route[] = [
  {
    method: "POST",
    path: limits,
    handle: async ({ path, params }, c) => {
      const service = await scopedService(c, path.ServiceSid, "updateService");
      const limit = await c.gateway.services.createRateLimit(service.sid, { uniqueName: params.required("UniqueName"), description: params.string("Description") });
      return { status: 201, body: presentRateLimit(service.sid, limit, c) };
    },
  },
  {
    method: "GET",
    path: limits,
    handle: async (request, c) => {
      const service = await scopedService(c, request.path.ServiceSid);
      return listPage(request, c, "rate_limits", pageOf(service.rateLimits.named), (l) => presentRateLimit(service.sid, l, c));
    },
  },
  {
    method: "GET",
    path: `${limits}/{Sid}`,
    handle: async ({ path }, c) => {
      const service = await scopedService(c, path.ServiceSid);
      return { status: 200, body: presentRateLimit(service.sid, findRateLimit(service.rateLimits.named, path.Sid), c) };
    },
  },
  {
    method: "POST",
    path: `${limits}/{Sid}`,
    handle: async ({ path, params }, c) => {
      const service = await scopedService(c, path.ServiceSid, "updateService");
      const limit = await c.gateway.services.updateRateLimit(service.sid, path.Sid, { description: params.string("Description") });
      return { status: 200, body: presentRateLimit(service.sid, limit, c) };
    },
  },
  {
    method: "DELETE",
    path: `${limits}/{Sid}`,
    handle: async ({ path }, c) => {
      const service = await scopedService(c, path.ServiceSid, "updateService");
      await c.gateway.services.deleteRateLimit(service.sid, path.Sid);
      return { status: 204 };
    },
  },
  {
    method: "POST",
    path: buckets,
    handle: async ({ path, params }, c) => {
      const service = await scopedService(c, path.ServiceSid, "updateService");
      const input = { max: params.int("Max", { required: true }) as number, interval: params.int("Interval", { required: true }) as number };
      const bucket = await c.gateway.services.createBucket(service.sid, path.RateLimitSid, input);
      return { status: 201, body: presentBucket(service.sid, path.RateLimitSid, bucket, c) };
    },
  },
  {
    method: "GET",
    path: buckets,
    handle: async (request, c) => {
      const service = await scopedService(c, request.path.ServiceSid);
      const limit = findRateLimit(service.rateLimits.named, request.path.RateLimitSid);
      return listPage(request, c, "buckets", pageOf(limit.buckets), (b) => presentBucket(service.sid, limit.sid, b, c));
    },
  },
  {
    method: "GET",
    path: `${buckets}/{Sid}`,
    handle: async ({ path }, c) => {
      const service = await scopedService(c, path.ServiceSid);
      const limit = findRateLimit(service.rateLimits.named, path.RateLimitSid);
      return { status: 200, body: presentBucket(service.sid, limit.sid, findBucket(limit, path.Sid), c) };
    },
  },
  {
    method: "POST",
    path: `${buckets}/{Sid}`,
    handle: async ({ path, params }, c) => {
      const service = await scopedService(c, path.ServiceSid, "updateService");
      const bucket = await c.gateway.services.updateBucket(service.sid, path.RateLimitSid, path.Sid, { max: params.int("Max"), interval: params.int("Interval") });
      return { status: 200, body: presentBucket(service.sid, path.RateLimitSid, bucket, c) };
    },
  },
  {
    method: "DELETE",
    path: `${buckets}/{Sid}`,
    handle: async ({ path }, c) => {
      const service = await scopedService(c, path.ServiceSid, "updateService");
      await c.gateway.services.deleteBucket(service.sid, path.RateLimitSid, path.Sid);
      return { status: 204 };
    },
  },
];
