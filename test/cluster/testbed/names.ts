import { tmpdir } from "node:os";
import { join } from "node:path";

/**
 * Every name the test bed makes on this machine begins with this prefix —
 * network namespaces, links, the bridge, cgroups and its directory — so that
 * a clean-up after a crashed run finds all of it by name, and nothing else
 * on the machine (the shared engine, the fault tests' `berth-*` namespaces)
 * can match. Interface names have at most 15 bytes: `berthc-` leaves eight.
 */
export const PREFIX = "berthc-";

/**
 * The nodes' switch: a bridge in a network namespace of its own. Not in the
 * root namespace, whose firewall drops bridged traffic here (the shared
 * engine sets FORWARD's policy to DROP, and bridge-nf-call-iptables is on):
 * in its own namespace the bridge meets an empty firewall, and the test bed
 * changes nothing of the host's.
 */
export const SWITCH_NETNS = `${PREFIX}sw`;
export const BRIDGE = `${PREFIX}br`;
/** The root namespace's end of its link to the switch, with the address that the nodes reach the host on. */
export const UPLINK = `${PREFIX}up`;
/** The uplink's other end, a port of the bridge. */
export const UPLINK_PORT = `${PREFIX}upb`;
export const BRIDGE_ADDRESS = "10.231.0.1";
export const SUBNET_BITS = 24;

/**
 * Overlay networks (ingress among them) take their subnets from this pool, not
 * from Swarm's default 10.0.0.0/8, which holds the bridge's own subnet.
 */
export const SWARM_ADDRESS_POOL = "10.232.0.0/16";

/** Short (a Unix socket path has at most 107 bytes) and fixed, so that a later run finds what an earlier one left. */
export const ROOT_DIR = join(tmpdir(), "berthc");

export interface NodeNames {
  /** 1, 2 or 3. */
  readonly index: number;
  /** The node's hostname (its own UTS namespace), which Swarm shows. */
  readonly hostname: string;
  /** Its network namespace, under /var/run/netns. */
  readonly netns: string;
  /** The veth end in the switch's namespace, a port of the bridge: what link down/up and partitions act on. */
  readonly hostLink: string;
  /** The veth end inside the node's namespace. */
  readonly nodeLink: string;
  /** The node's address on the bridge's subnet. */
  readonly address: string;
  /** dockerd's own files: data and exec roots, socket, pid file, log, daemon.json. */
  readonly dir: string;
  readonly socketPath: string;
  /**
   * The node's own disk for berth's node agent: bound, inside the node's mount namespace (dockerd's, which
   * its agent joins), onto AGENT_ROOT — one path on every node, as on real hosts, each with its own files.
   */
  readonly agentDisk: string;
  /** The cgroup parent of its containers, so that a clean-up finds their processes by name. */
  readonly cgroupParent: string;
}

export function nodeNames(index: number): NodeNames {
  const hostname = `${PREFIX}n${index}`;
  const dir = join(ROOT_DIR, `n${index}`);
  return {
    index,
    hostname,
    netns: hostname,
    hostLink: `${PREFIX}h${index}`,
    nodeLink: `${PREFIX}v${index}`,
    address: `10.231.0.${10 + index}`,
    dir,
    socketPath: join(dir, "d.sock"),
    agentDisk: join(dir, "agent-disk"),
    cgroupParent: hostname,
  };
}

/** BERTH_AGENT_MOUNT_ROOT of every node's agent: the same path on each node, backed by the node's agentDisk. */
export const AGENT_ROOT = join(ROOT_DIR, "agent-root");

export const NODE_COUNT = 3;
export const ALL_NODES: readonly NodeNames[] = Array.from({ length: NODE_COUNT }, (_, i) => nodeNames(i + 1));
