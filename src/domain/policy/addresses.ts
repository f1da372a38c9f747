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
