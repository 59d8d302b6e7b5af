import type { Turn } from "../admission/fair-queue.ts";
import type { LifecycleContext } from "./lifecycle-context.ts";
import { ownerNetworkName } from "./owner-network.ts";

/**
 * After an outbound workload `leavingId` left (deleted, its create undone):
 * removes its owner's bridge, and its egress rules, unless another outbound
 * workload of the owner still needs it — on this host, or in cluster mode on
 * the node `nodeId` it was on (whose agent also keeps a bridge that any
 * container of its node still uses). A `turn` at the engine is given back
 * before the rules go (iptables can take seconds, and needs no turn).
 */
export async function releaseOwnerNetwork(
  ctx: LifecycleContext,
  owner: string,
  nodeId: string | undefined,
  leavingId: string,
  turn?: Turn,
): Promise<void> {
  const { repo, docker, egress, instanceId, networks } = ctx.options;
  const others = (await repo.list({ owner, limit: 1_000_000 })).filter(
    (r) => r.spec.network === "outbound" && r.id !== leavingId,
  );
  if (networks) {
    if (nodeId === undefined) return;
    for (const other of others) if ((await networks.nodeOf(other.id)) === nodeId) return;
    turn?.release();
    await networks.release(nodeId, owner);
    return;
  }
  if (others.length > 0) return;
  const name = ownerNetworkName(instanceId, owner);
  const network = await docker.inspectNetwork(name);
  const removed = await docker.removeNetwork(name);
  turn?.release(); // the engine's part is done; iptables can take seconds, and needs no turn
  // The rules go only once the network has: a bridge that still has containers stays filtered.
  if (removed && network) await egress.release(network.bridge);
}
