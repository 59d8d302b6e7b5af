import type Dockerode from "dockerode";
import { SWARM_ADDRESS_POOL } from "./names.ts";

/** One row of `docker node ls`, as berth would read it. */
export interface SwarmNode {
  id: string;
  hostname: string;
  role: "manager" | "worker";
  /** Swarm's view of the node: `ready`, `down`, `unknown` or `disconnected`. */
  status: string;
  availability: string;
  addr: string;
  /** For a manager: whether it leads, and whether the other managers reach it (`reachable`, `unreachable`). */
  manager?: { leader: boolean; reachability: string };
}

/** `docker node ls` through one manager's engine, parsed. */
export async function listNodes(docker: Dockerode): Promise<SwarmNode[]> {
  const nodes = (await docker.listNodes()) as Array<{
    ID: string;
    Spec: { Role: "manager" | "worker"; Availability: string };
    Description: { Hostname: string };
    Status: { State: string; Addr: string };
    ManagerStatus?: { Leader?: boolean; Reachability: string };
  }>;
  return nodes
    .map((n) => ({
      id: n.ID,
      hostname: n.Description.Hostname,
      role: n.Spec.Role,
      status: n.Status.State,
      availability: n.Spec.Availability,
      addr: n.Status.Addr,
      ...(n.ManagerStatus
        ? { manager: { leader: n.ManagerStatus.Leader === true, reachability: n.ManagerStatus.Reachability } }
        : {}),
    }))
    .sort((a, b) => a.hostname.localeCompare(b.hostname));
}

/** Makes `docker` the first manager of a new swarm; resolves with the manager join token. */
export async function initSwarm(docker: Dockerode, address: string): Promise<string> {
  await docker.swarmInit({
    ListenAddr: `${address}:2377`,
    AdvertiseAddr: address,
    DefaultAddrPool: [SWARM_ADDRESS_POOL],
    SubnetSize: 24,
  });
  const info = (await docker.swarmInspect()) as { JoinTokens: { Manager: string } };
  return info.JoinTokens.Manager;
}

export async function joinSwarm(
  docker: Dockerode,
  address: string,
  leader: string,
  token: string,
): Promise<void> {
  await docker.swarmJoin({
    ListenAddr: `${address}:2377`,
    AdvertiseAddr: address,
    RemoteAddrs: [`${leader}:2377`],
    JoinToken: token,
  });
}
