import { type Ipv4Cidr, parseIpv4Cidr } from "../../network/ipv4-cidr.ts";
import { ConfigError } from "../config-error.ts";
import { type EnvOf, envBool, envList } from "../env-values.ts";

/** Whether a workload may reach the network (`network: 'outbound'`), and where it may not. */
export const NetworkEnv = {
  BERTH_ALLOW_NETWORK: envBool(false),
  BERTH_EGRESS_ALLOW: envList,
  BERTH_EGRESS_BLOCK: envList,
};

export interface NetworkConfig {
  readonly allowNetwork: boolean;
  /** IPv4 ranges `network: 'outbound'` may reach despite the blocks (host, private, link-local). */
  readonly egressAllow: readonly Ipv4Cidr[];
  /** IPv4 ranges blocked for `network: 'outbound'` on top of the defaults. */
  readonly egressBlock: readonly Ipv4Cidr[];
}

export function networkConfig(e: EnvOf<typeof NetworkEnv>): NetworkConfig {
  return {
    allowNetwork: e.BERTH_ALLOW_NETWORK,
    egressAllow: Object.freeze(cidrs("BERTH_EGRESS_ALLOW", e.BERTH_EGRESS_ALLOW)),
    egressBlock: Object.freeze(cidrs("BERTH_EGRESS_BLOCK", e.BERTH_EGRESS_BLOCK)),
  };
}

function cidrs(name: string, values: readonly string[]): Ipv4Cidr[] {
  return values.map((v) => {
    const cidr = parseIpv4Cidr(v);
    if (!cidr) throw ConfigError.invalid(`${name}: '${v}' is not an IPv4 address or CIDR`);
    return cidr;
  });
}
