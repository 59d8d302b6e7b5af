import type { DockerClient, NetworkInfo } from "../docker/docker-client.ts";
import type { SystemLogger } from "../logging/system-logger.ts";
import { ownerNetworkSpec } from "../network/owner-network-spec.ts";
import { managedLabels } from "./container-config.ts";
import type { EgressGuard } from "./egress-guard.ts";

export { ownerNetworkName } from "../network/owner-network-spec.ts";

/** Creates the owner's bridge if missing; its interface is what the egress filter hooks onto. */
export async function ensureOwnerNetwork(
  docker: DockerClient,
  instanceId: string,
  owner: string,
): Promise<NetworkInfo & { name: string }> {
  const spec = ownerNetworkSpec(instanceId, owner);
  const info = await docker.ensureNetwork(spec);
  return { ...info, name: spec.name };
}

/**
 * At start-up and whenever the engine comes back: puts the egress filter back
 * on every owner bridge of this instance (a reboot or a firewall reload may
 * have flushed it while containers kept running) and removes the rules of
 * bridges that went while berth was away. A bridge that cannot be protected
 * is reported, loudly: its running containers are then unfiltered until the
 * filter works again, and none of them can be started or created meanwhile.
 */
export async function protectOwnerNetworks(
  docker: DockerClient,
  egress: EgressGuard,
  instanceId: string,
  log: SystemLogger,
): Promise<void> {
  const since = egress.mark();
  const names = await docker.listNetworks(managedLabels(instanceId));
  const bridges = new Set<string>();
  for (const name of names) {
    const info = await docker.inspectNetwork(name);
    if (!info) continue;
    bridges.add(info.bridge);
    try {
      await egress.protect(info.bridge);
    } catch (err) {
      log.error(
        { err, network: name },
        "owner network is NOT filtered: its running containers can reach the host and private ranges",
      );
    }
  }
  await egress.sweep(bridges, since);
}
