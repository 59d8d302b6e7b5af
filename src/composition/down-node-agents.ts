import type { EventEmitter } from "node:events";
import type { MembershipEvents } from "../cluster/membership.ts";
import type { SystemLogger } from "../logging/system-logger.ts";
import type { AgentRegistry } from "../node-agents/agent-registry.ts";

/**
 * On every API server: when Swarm calls a node `down`, the connection of its
 * agent is ended here, if this server still holds one. Its workloads are
 * being moved (by the leader), and a link to a node that was cut off stays
 * open until Socket.IO's heartbeat gives up, tens of seconds later; a
 * request in flight to a workload there would wait that long, or its own
 * timeout, though the workload already answers on its new node. Ended, every
 * call waiting on it fails at once (CHANNEL_DISCONNECTED, retryable), as when
 * an agent goes. Only `down`: `unknown` is what every node is called for a
 * while after the managers elect a new leader. Returns how to stop.
 */
export function dropAgentsOfDownNodes(
  membership: Pick<EventEmitter<MembershipEvents>, "on" | "off">,
  registry: Pick<AgentRegistry, "dropNode">,
  log: SystemLogger,
): () => void {
  const onChanged = (node: MembershipEvents["changed"][0], before: MembershipEvents["changed"][1]) => {
    // Called down now, not a change of availability (a drain) of a node down already, whose agent may be back.
    if (node?.state !== "down" || before?.state === "down") return;
    if (registry.dropNode(node.id, "Swarm calls its node down"))
      log.warn({ node: node.hostname }, "ended the link of a node agent whose node Swarm calls down");
  };
  membership.on("changed", onChanged);
  return () => membership.off("changed", onChanged);
}
