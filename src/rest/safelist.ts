import { authorizeAccount } from "../domain/access/rules.js";
import { notFound } from "../domain/errors.js";
import type { SafeListedNumber } from "../domain/service/safelist.js";
import type { RestContext, Route } from "./router.js";

/** A safe-listed number as Twilio's `verify.v2.safelist`. */
function presentNumber(n: SafeListedNumber, c: RestContext) {
  return { sid: n.sid, phone_number: n.phoneNumber, url: `${c.base}/v2/SafeList/Numbers/${encodeURIComponent(n.phoneNumber)}` };
}

/** Twilio's SafeList/Numbers: the account's safe list (admin key only; a service key is FORBIDDEN). */
export const safeListRoutes: Route[] = [
  {
    method: "POST",
    path: "/v2/SafeList/Numbers",
    handle: async ({ params }, c) => {
      authorizeAccount(c.principal);
      return { status: 201, body: presentNumber(await c.gateway.accountSafeList.add(params.required("PhoneNumber")), c) };
    },
  },
  {
    method: "GET",
    path: "/v2/SafeList/Numbers/{PhoneNumber}",
    handle: async ({ path }, c) => {
      authorizeAccount(c.principal);
      const found = await c.gateway.accountSafeList.get(path.PhoneNumber);
      if (!found) throw notFound("Safe-listed number");
      return { status: 200, body: presentNumber(found, c) };
    },
  },
  {
    method: "DELETE",
    path: "/v2/SafeList/Numbers/{PhoneNumber}",
    handle: async ({ path }, c) => {
      authorizeAccount(c.principal);
      if (!(await c.gateway.accountSafeList.remove(path.PhoneNumber))) throw notFound("Safe-listed number");
      return { status: 204 };
    },
  },
];
