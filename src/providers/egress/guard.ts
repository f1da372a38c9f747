import { type LookupAddress, lookup as dnsLookup } from "node:dns";
import { request as httpRequest } from "node:http";
import { request as httpsRequest } from "node:https";
import { isInternalAddress } from "../../domain/policy/addresses.js";

export { isInternalAddress, literalInternalHost } from "../../domain/policy/addresses.js";

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
