import Dockerode from "dockerode";
import { DockerUnavailableError } from "../errors/errors.ts";
import { toDockerError } from "./to-docker-error.ts";

/** Which node an engine is: its Swarm node id and its hostname, as `docker info` reports them. */
export interface EngineIdentity {
  nodeId: string;
  hostname: string;
}

/**
 * Reads the engine's Swarm node id and hostname. A node agent says these in
 * its handshake: the id is how berth names the node (`docker node ls` shows
 * the same), so an engine that is not an active member of a Swarm cannot
 * serve a cluster — that is a DockerUnavailableError, as the engine cannot
 * serve, with `details.swarm` saying what it reports.
 */
export async function readEngineIdentity(socketPath: string): Promise<EngineIdentity> {
  const docker = new Dockerode({ socketPath, timeout: 10_000 });
  let info: { Name?: string; Swarm?: { NodeID?: string; LocalNodeState?: string } };
  try {
    info = await docker.info();
  } catch (err) {
    throw toDockerError(err, "info");
  }
  const nodeId = info.Swarm?.NodeID ?? "";
  if (info.Swarm?.LocalNodeState !== "active" || nodeId === "")
    throw new DockerUnavailableError({
      details: { op: "info", swarm: info.Swarm?.LocalNodeState ?? "unknown" },
    });
  return { nodeId, hostname: info.Name ?? "" };
}
