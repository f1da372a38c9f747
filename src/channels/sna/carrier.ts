import { BlockList, isIP } from "node:net";
import { type SnaCarrier, snaErrors } from "../../domain/verification/sna.js";

export interface SandboxRules {
  /** Source address range → the number that owns it, e.g. "10.64.0.0/10=+14155550100". */
  ranges: { cidr: string; msisdn: string }[];
  /** Further ranges that count as mobile data (AUTO tries SNA from them). */
  coverage: string[];
  /** Honour the `Verigate-Sandbox-Msisdn` test header (never in production). */
  testHeader: boolean;
}

const addSubnet = (list: BlockList, cidr: string) => {
  const [address, prefix] = cidr.split("/");
  const type = isIP(address) === 6 ? "ipv6" : "ipv4";
  list.addSubnet(address, Number(prefix ?? (type === "ipv6" ? 128 : 32)), type);
};
const contains = (list: BlockList, ip: string) => {
  const plain = ip.replace(/^::ffff:/, "");
  const type = isIP(plain);
  return type !== 0 && list.check(plain, type === 6 ? "ipv6" : "ipv4");
};

/**
 * The built-in sandbox carrier, so SNA runs with no aggregator: it decides who owns a request by its
 * source address range, or (outside production) by the `Verigate-Sandbox-Msisdn` header; the header
 * value `invalid` plays a carrier that calls the number invalid (60540).
 */
export function sandboxCarrier(rules: SandboxRules): SnaCarrier {
  const owned = rules.ranges.map(({ cidr, msisdn }) => {
    const list = new BlockList();
    addSubnet(list, cidr);
    return { list, msisdn };
  });
  const covered = new BlockList();
  for (const cidr of [...rules.ranges.map((r) => r.cidr), ...rules.coverage]) addSubnet(covered, cidr);
  return {
    name: "sandbox",
    async covers(deviceIp) {
      return contains(covered, deviceIp);
    },
    async identify(request) {
      const header = request.headers["verigate-sandbox-msisdn"];
      if (rules.testHeader && typeof header === "string") {
        if (header === "invalid") return { errorCode: snaErrors.NUMBER_INVALID };
        return /^\+\d{6,15}$/.test(header) ? { msisdn: header } : { errorCode: snaErrors.NUMBER_INVALID };
      }
      const match = owned.find(({ list }) => contains(list, request.ip));
      return match ? { msisdn: match.msisdn } : { errorCode: snaErrors.CARRIER_NOT_DETECTED };
    },
  };
}
