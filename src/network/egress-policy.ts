import type { Ipv4Cidr } from "./ipv4-cidr.ts";

/**
 * What a workload with `network: 'outbound'` may not reach: the link-local
 * range (cloud metadata services live at 169.254.169.254), the private
 * ranges (the operator's LAN, other tenants' bridges, the cloud's VPC), the
 * carrier-grade NAT range (some clouds' internal services) and the "this
 * network" and loopback ranges. The host itself is unreachable whatever its
 * addresses (see EgressFirewall). `allow` opens holes in both, e.g. for a
 * resolver or a service on the LAN the workloads are meant to use.
 */
export const DEFAULT_BLOCKED: readonly Ipv4Cidr[] = [
  "0.0.0.0/8",
  "10.0.0.0/8",
  "100.64.0.0/10",
  "127.0.0.0/8",
  "169.254.0.0/16",
  "172.16.0.0/12",
  "192.168.0.0/16",
] as Ipv4Cidr[];

export interface EgressPolicy {
  /** Reachable despite the blocks (and despite "the host is unreachable"): checked first. */
  readonly allow: readonly Ipv4Cidr[];
  /** Unreachable: the defaults plus the operator's own. */
  readonly block: readonly Ipv4Cidr[];
}

export function egressPolicy(allow: readonly Ipv4Cidr[], extraBlock: readonly Ipv4Cidr[]): EgressPolicy {
  return { allow: [...new Set(allow)], block: [...new Set([...DEFAULT_BLOCKED, ...extraBlock])] };
}
