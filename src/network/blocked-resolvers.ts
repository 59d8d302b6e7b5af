import type { EgressPolicy } from "./egress-policy.ts";
import { ipv4InCidr } from "./ipv4-cidr.ts";

/**
 * The host's name servers (from resolv.conf text) that an outbound container
 * could not reach. Docker's embedded resolver (127.0.0.11 in the container)
 * sends a container's queries on from the container's own network namespace,
 * through its bridge, except to a resolver on the host's loopback — so a
 * resolver in a blocked range (a cloud VPC's 10.x resolver, a LAN router)
 * leaves outbound containers without name resolution until the operator
 * allows it. berth says so at start rather than open it on its own: what an
 * internal resolver answers (internal names) is the operator's to expose.
 */
export function blockedResolvers(resolvConf: string, policy: EgressPolicy): string[] {
  const servers = resolvConf
    .split("\n")
    .map((line) => /^\s*nameserver\s+(\S+)/.exec(line)?.[1])
    .filter((s): s is string => s !== undefined && !s.startsWith("127."));
  return servers.filter(
    (ip) =>
      policy.block.some((cidr) => ipv4InCidr(ip, cidr)) && !policy.allow.some((cidr) => ipv4InCidr(ip, cidr)),
  );
}
