import { isInternalAddress, literalInternalHost } from "../egress/guard.js";

/**
 * Where Web Push notices may go. A device app chooses its endpoint, so without a policy it could make
 * the gateway dial anything (SSRF): the webhooks' rule on internal addresses holds for push endpoints
 * too, and in production only known push services are reached.
 */
export interface WebPushPolicy {
  /** WEBHOOK_PRIVATE_NETWORKS=allow: loopback, private and link-local endpoints may be reached too. */
  allowInternal: boolean;
  /** WEB_PUSH_HOSTS: host names, `*.example.com` for any subdomain of example.com; null for any host. */
  hosts: readonly string[] | null;
}

const matchesHost = (host: string, pattern: string): boolean => (pattern.startsWith("*.") ? host.endsWith(pattern.slice(1)) : host === pattern);

const hostOf = (endpoint: string) => new URL(endpoint).hostname.toLowerCase();

function unlistedHost(host: string, policy: WebPushPolicy): string | null {
  if (!policy.hosts || policy.hosts.some((pattern) => matchesHost(host, pattern.toLowerCase()))) return null;
  return `${host} is not a push service this gateway reaches (WEB_PUSH_HOSTS)`;
}

/** Why an endpoint may not be enrolled, or null: names are judged literally here (DNS may change later). */
export function enrolmentRefusal(endpoint: string, policy: WebPushPolicy): string | null {
  const host = hostOf(endpoint);
  if (!policy.allowInternal && literalInternalHost(endpoint)) return `${host} is an internal address; set WEBHOOK_PRIVATE_NETWORKS=allow to permit it`;
  return unlistedHost(host, policy);
}

/**
 * Why an endpoint may not be dialled now, or null. An address given literally never reaches a lookup, so
 * it is judged here; a name is judged by every address it resolves to, inside the socket's own lookup
 * (egress/guard.ts guardedLookup), so a DNS answer cannot change between the check and the connect.
 */
export function sendRefusal(endpoint: string, policy: WebPushPolicy): string | null {
  const host = hostOf(endpoint);
  if (!policy.allowInternal && isInternalAddress(host.replace(/^\[|\]$/g, ""))) return `${host} is an internal address; set WEBHOOK_PRIVATE_NETWORKS=allow to permit it`;
  return unlistedHost(host, policy);
}
