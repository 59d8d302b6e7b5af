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

/**
 * How soon the test bed's Swarm calls a lost node down, as docs/cluster.md (*Setting a cluster up on real
 * hosts*) has an operator of berth set it: the time from a node lost to its workloads moved is mostly this.
 * Each node heartbeats the leading manager every period (±0.5 s), and its dispatcher calls a node `down` after
 * three periods without one: 3 to 7.5 s after a cut at 2 s, against 9 to 16.5 s at Swarm's default of 5 s.
 * After a change of Raft leader (the node lost led the managers: every node of the test bed is one) the new
 * leader first waits six periods for every node (`unknown`): 9 to 15 s at 2 s, against 27 to 33 s. The price:
 * a node whose heartbeats stall for 4.5 s (a busy host) is called down and its workloads moved, and heartbeats
 * come 2.5 times as often.
 *
 * Raft's own timing (ElectionTick 10, HeartbeatTick 1, of 1 s: a silent leader is replaced after 10 to 20 s)
 * is left as it is: a manager takes it only from its daemon.json (`swarm-raft-election-tick`), which engine
 * 20.10 refuses ("don't match any configuration option"); the cluster spec's `Raft` fields only record it.
 */
export const DISPATCHER_HEARTBEAT_MS = 2_000;

/** Makes `docker` the first manager of a new swarm; resolves with the manager join token. */
export async function initSwarm(docker: Dockerode, address: string): Promise<string> {
  await docker.swarmInit({
    ListenAddr: `${address}:2377`,
    AdvertiseAddr: address,
    DefaultAddrPool: [SWARM_ADDRESS_POOL],
    SubnetSize: 24,
    // What `docker swarm init --dispatcher-heartbeat 2s` sets (nanoseconds).
    Spec: { Dispatcher: { HeartbeatPeriod: DISPATCHER_HEARTBEAT_MS * 1e6 } },
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
