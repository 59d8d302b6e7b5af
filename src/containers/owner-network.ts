import { createHash } from "node:crypto";
import type { DockerClient } from "../docker/docker-client.ts";
import { managedLabels } from "./container-config.ts";

/**
 * Containers with `network: 'outbound'` join their owner's own bridge, so
 * that owners cannot reach each other; inter-container traffic is off even
 * within it. The name is derived from the owner (hashed: owner names need not
 * be valid network names) and the instance, so test runs sharing an engine
 * never share one.
 */
export function ownerNetworkName(instanceId: string, owner: string): string {
  const slug = createHash("sha256").update(owner).digest("hex").slice(0, 12);
  return `berth-${instanceId.slice(0, 8)}-${slug}`;
}

export async function ensureOwnerNetwork(
  docker: DockerClient,
  instanceId: string,
  owner: string,
): Promise<string> {
  const name = ownerNetworkName(instanceId, owner);
  await docker.ensureNetwork({
    name,
    labels: { ...managedLabels(instanceId), "berth.owner": owner },
    options: { "com.docker.network.bridge.enable_icc": "false" },
  });
  return name;
}
