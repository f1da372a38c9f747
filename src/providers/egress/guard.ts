import { type LookupAddress, lookup as dnsLookup } from "node:dns";
import { request as httpRequest } from "node:http";
import { request as httpsRequest } from "node:https";
import { BlockList, isIP } from "node:net";

/**
 * Where a service's webhooks may not go: loopback, private, link-local (cloud metadata), CGNAT,
 * unique-local, multicast and unspecified addresses. A service key must not make the gateway a proxy
 * into the network it runs in (SSRF). Checked against every address the name resolves to, inside the
 * connection's own lookup, so a DNS answer cannot change between the check and the connect.
 */
const internal = new BlockList();
for (const [net, prefix] of [
  ["0.0.0.0", 8],
  ["10.0.0.0", 8],
  ["100.64.0.0", 10],
  ["127.0.0.0", 8],
  ["169.254.0.0", 16],
  ["172.16.0.0", 12],
  ["192.0.0.0", 24],
  ["192.168.0.0", 16],
  ["198.18.0.0", 15],
  ["224.0.0.0", 4],
  ["240.0.0.0", 4],
] as const) {
  internal.addSubnet(net, prefix, "ipv4");
}
for (const [net, prefix] of [
  ["::", 128],
  ["::1", 128],
  ["::ffff:0:0", 96],
  ["64:ff9b::", 96],
  ["fc00::", 7],
  ["fe80::", 10],
  ["ff00::", 8],
] as const) {
  internal.addSubnet(net, prefix, "ipv6");
}

export function isInternalAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 0) return false;
  if (family === 6 && address.toLowerCase().startsWith("::ffff:")) {
    const v4 = address.slice(7);
    if (isIP(v4) === 4) return internal.check(v4, "ipv4");
  }
  return internal.check(address, family === 4 ? "ipv4" : "ipv6");
}

/** A URL whose host is literally an internal address (names are checked when they resolve). */
export function literalInternalHost(url: string): boolean {
  const host = new URL(url).hostname.replace(/^\[|\]$/g, "");
  return host === "localhost" || isInternalAddress(host);
}

export class EgressRefused extends Error {}

type LookupCallback = (error: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;

/** A DNS lookup for sockets that refuses a name with any internal address (give it as `lookup` to an Agent or a request). */
export function guardedLookup(hostname: string, options: { all?: boolean }, callback: LookupCallback): void {
  dnsLookup(hostname, { all: true }, (error, addresses) => {
    if (error) return callback(error, []);
    const list = addresses as LookupAddress[];
    const bad = list.find((a) => isInternalAddress(a.address));
    if (bad) return callback(new EgressRefused(`${hostname} resolves to an internal address (${bad.address}); set WEBHOOK_PRIVATE_NETWORKS=allow to permit it`), []);
    if (options.all) return callback(null, list);
    callback(null, list[0].address, list[0].family);
  });
}

/** POSTs a body and answers the status code; refuses internal destinations unless allowed. */
export function postOutside(url: string, o: { headers: Record<string, string>; body: string; timeoutMs: number; allowInternal: boolean }): Promise<number> {
  const target = new URL(url);
  if (!o.allowInternal && isInternalAddress(target.hostname.replace(/^\[|\]$/g, ""))) {
    return Promise.reject(new EgressRefused(`${target.hostname} is an internal address; set WEBHOOK_PRIVATE_NETWORKS=allow to permit it`));
  }
  const send = target.protocol === "https:" ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = send(
      target,
      {
        method: "POST",
        headers: { ...o.headers, "content-length": Buffer.byteLength(o.body) },
        timeout: o.timeoutMs,
        ...(o.allowInternal ? {} : { lookup: guardedLookup as never }),
      },
      (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      },
    );
    req.on("timeout", () => req.destroy(new Error(`timed out after ${o.timeoutMs} ms`)));
    req.on("error", reject);
    req.end(o.body);
  });
}
