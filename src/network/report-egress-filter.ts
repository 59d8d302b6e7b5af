import { readFile } from "node:fs/promises";
import type { SystemLogger } from "../logging/system-logger.ts";
import { blockedResolvers } from "./blocked-resolvers.ts";
import type { EgressFirewall } from "./egress-firewall.ts";

/**
 * Says in the system log, at start, whether `network: 'outbound'` can be
 * filtered here (if not, creates asking for it are refused), and warns when
 * the host's name servers are in blocked ranges.
 */
export async function reportEgressFilter(
  firewall: EgressFirewall,
  log: SystemLogger,
  resolvConfPath = "/etc/resolv.conf",
): Promise<void> {
  const status = await firewall.check();
  if (status.available) {
    log.info("egress filter available: outbound containers cannot reach the host or private ranges");
  } else {
    log.error(
      { reason: status.reason },
      "egress filter unavailable (iptables with Docker's DOCKER-USER chain is needed): network 'outbound' is refused",
    );
  }
  const resolvers = blockedResolvers(await readFile(resolvConfPath, "utf8").catch(() => ""), firewall.policy);
  if (resolvers.length > 0) {
    log.warn(
      { resolvers },
      "outbound containers cannot resolve names: the host's name servers are in blocked ranges (allow them with BERTH_EGRESS_ALLOW)",
    );
  }
}
