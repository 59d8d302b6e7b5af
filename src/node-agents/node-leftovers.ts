import { DockerUnavailableError } from "../errors/errors.ts";
import type { AgentConnection } from "./agent-connection.ts";
import type { AgentRegistry } from "./agent-registry.ts";
import { parseEngineHandle } from "./engine-handle.ts";

const FAILURES = {
  lost: (reason: string) => new DockerUnavailableError({ cause: new Error(reason) }),
  timedOut: (ms: number) => new DockerUnavailableError({ cause: new Error(`no answer within ${ms} ms`) }),
};

/**
 * Removes what a container berth no longer drives has on `agent`'s node beside its engine container:
 * its channel there (the agent holds it open for any server until told) and its code and socket
 * directories. Both are safe to repeat. What a stale copy, an image check's left-over throwaway and an
 * orphan have in common.
 */
export async function removeFromNode(agent: AgentConnection, containerId: string): Promise<void> {
  await agent.channel("close", [containerId], FAILURES);
  await agent.callFiles("removeAll", [containerId]);
}

/**
 * An orphan's channel and files on the node its engine handle names (`<node>:<engine id>`): an orphan
 * has no row and no placement, so this handle is all that says where its files are. DOCKER_UNAVAILABLE
 * while that node's agent is not connected; nothing for a handle that is no cluster's.
 */
export async function removeOrphanLeftovers(
  registry: AgentRegistry,
  containerId: string,
  dockerId: string,
): Promise<void> {
  const handle = parseEngineHandle(dockerId);
  if (handle === undefined) return;
  const agent = registry.agentFor(handle.nodeId);
  if (!agent) {
    throw new DockerUnavailableError({
      details: { op: "remove an orphan's files" },
      cause: new Error(`no node agent of node ${handle.nodeId} is connected`),
    });
  }
  await removeFromNode(agent, containerId);
}
