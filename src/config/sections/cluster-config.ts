import { isAbsolute, resolve } from "node:path";
import { z } from "zod";
import { ConfigError } from "../config-error.ts";
import { type EnvOf, envBool } from "../env-values.ts";

/** Cluster mode: workloads on many Docker hosts, each driven through its node agent. */
export const ClusterEnv = {
  BERTH_CLUSTER: envBool(false),
  /** Read by the API servers and by every node agent alike: where a node's engine finds a workload's files. */
  BERTH_AGENT_MOUNT_ROOT: z
    .string()
    // Judged as resolved: `//` or `/x/..` are `/`, and a root of `/` would let a workload mount anything.
    .refine((p) => isAbsolute(p) && resolve(p) !== "/", "must be an absolute path other than /")
    .transform((p) => resolve(p))
    .default("/var/lib/berth-agent"),
};

export interface ClusterConfig {
  /**
   * BERTH_CLUSTER: workloads are placed on the Swarm's nodes and driven through
   * their agents; the local engine (BERTH_DOCKER_SOCKET) must be a Swarm
   * manager's, asked only which nodes are up. False: single-host mode.
   */
  readonly cluster: boolean;
  /**
   * BERTH_AGENT_MOUNT_ROOT: the agents' root on every node (the same on all of them), under which a
   * workload's code and socket directories are made and from which its engine mounts them.
   */
  readonly agentMountRoot: string;
}

/**
 * Cluster mode's needs, checked at start: the store every API server shares
 * (PostgreSQL: placements, generations and locks must be one for all of
 * them), and the agents' token (nothing else can reach a node's engine).
 */
export function clusterConfig(
  e: EnvOf<typeof ClusterEnv>,
  has: { database: boolean; agentToken: boolean },
): ClusterConfig {
  const agentMountRoot = e.BERTH_AGENT_MOUNT_ROOT;
  if (!e.BERTH_CLUSTER) return { cluster: false, agentMountRoot };
  if (!has.database)
    throw ConfigError.invalid("BERTH_CLUSTER needs BERTH_DATABASE_URL (the store every API server shares)");
  if (!has.agentToken)
    throw ConfigError.invalid("BERTH_CLUSTER needs BERTH_AGENT_TOKEN (the node agents' token)");
  return { cluster: true, agentMountRoot };
}
