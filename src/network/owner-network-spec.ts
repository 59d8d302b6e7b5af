import { createHash } from "node:crypto";
import type { NetworkSpec } from "../docker/docker-client.ts";

/**
 * Containers with `network: 'outbound'` join their owner's own bridge, so
 * that owners cannot reach each other; inter-container traffic is off even
 * within it. The name is derived from the owner (hashed: owner names need not
 * be valid network names) and the instance, so test runs sharing an engine
 * never share one. Here, not in containers/, because two parties make these
 * networks: single-host berth on its own engine, and in cluster mode each
 * node's agent on its node's (which builds the name itself from an owner and
 * an instance id, never taking one from an API server).
 */
export function ownerNetworkName(instanceId: string, owner: string): string {
  const slug = createHash("sha256").update(owner).digest("hex").slice(0, 12);
  return `berth-${instanceId.slice(0, 8)}-${slug}`;
}

/**
 * The owner's bridge as berth makes it: its name, berth's labels (those of
 * containers/container-config.ts's `managedLabels`, which a test holds equal)
 * and ICC off. `extraLabels` mark who made it (a node agent's own).
 */
export function ownerNetworkSpec(
  instanceId: string,
  owner: string,
  extraLabels: Record<string, string> = {},
): NetworkSpec {
  return {
    name: ownerNetworkName(instanceId, owner),
    labels: { "berth.managed": "true", "berth.instance": instanceId, "berth.owner": owner, ...extraLabels },
    options: { "com.docker.network.bridge.enable_icc": "false" },
  };
}
