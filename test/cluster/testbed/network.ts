import { ip, ipIn } from "./command.ts";
import {
  BRIDGE,
  BRIDGE_ADDRESS,
  type NodeNames,
  SUBNET_BITS,
  SWITCH_NETNS,
  UPLINK,
  UPLINK_PORT,
} from "./names.ts";

/**
 * The test bed's network: a bridge (in a namespace of its own, see
 * SWITCH_NETNS) with one port towards the root namespace, which holds
 * 10.231.0.1 (so that PostgreSQL, Redis and berth's API servers, which run
 * there, reach the nodes and are reached by them), and one port per node,
 * whose namespace holds the node's address. Traffic never leaves the machine:
 * the bridge has no other uplink, and nothing routes 10.231.0.0/24 elsewhere.
 */
export async function createSwitch(): Promise<void> {
  await ip("netns", "add", SWITCH_NETNS);
  await ipIn(SWITCH_NETNS, "link", "add", BRIDGE, "type", "bridge");
  await ipIn(SWITCH_NETNS, "link", "set", BRIDGE, "up");
  await ip("link", "add", UPLINK, "type", "veth", "peer", "name", UPLINK_PORT, "netns", SWITCH_NETNS);
  await ipIn(SWITCH_NETNS, "link", "set", UPLINK_PORT, "master", BRIDGE, "up");
  await ip("addr", "add", `${BRIDGE_ADDRESS}/${SUBNET_BITS}`, "dev", UPLINK);
  await ip("link", "set", UPLINK, "up");
}

export async function createNodeNetwork(node: NodeNames): Promise<void> {
  await ip("netns", "add", node.netns);
  await ipIn(node.netns, "link", "set", "lo", "up");
  await ipIn(
    SWITCH_NETNS,
    "link",
    "add",
    node.hostLink,
    "type",
    "veth",
    "peer",
    "name",
    node.nodeLink,
    "netns",
    node.netns,
  );
  await ipIn(SWITCH_NETNS, "link", "set", node.hostLink, "master", BRIDGE, "up");
  await ipIn(node.netns, "addr", "add", `${node.address}/${SUBNET_BITS}`, "dev", node.nodeLink);
  await ipIn(node.netns, "link", "set", node.nodeLink, "up");
}

/** Takes the switch's end of a node's veth down: the node sees its carrier go (NO-CARRIER), as with a pulled cable. */
export async function setLinkDown(node: NodeNames): Promise<void> {
  await ipIn(SWITCH_NETNS, "link", "set", node.hostLink, "down");
}

export async function setLinkUp(node: NodeNames): Promise<void> {
  await ipIn(SWITCH_NETNS, "link", "set", node.hostLink, "up");
}

/**
 * Cuts a node off while every interface stays up: its veth leaves the bridge,
 * so its packets go nowhere and nobody answers — a partition as a broken
 * switch makes it, which the node cannot tell from silence.
 */
export async function partition(node: NodeNames): Promise<void> {
  await ipIn(SWITCH_NETNS, "link", "set", node.hostLink, "nomaster");
}

export async function heal(node: NodeNames): Promise<void> {
  await ipIn(SWITCH_NETNS, "link", "set", node.hostLink, "master", BRIDGE);
}

/** The switch's end of a node's veth, e.g. `up`, `down`, `up, off the bridge`; undefined when it does not exist. */
export async function linkState(node: NodeNames): Promise<string | undefined> {
  const out = await ipIn(SWITCH_NETNS, "-j", "link", "show", "dev", node.hostLink).catch(() => "");
  const [link] = out === "" ? [] : (JSON.parse(out) as { flags: string[]; master?: string }[]);
  if (!link) return undefined;
  return `${link.flags.includes("UP") ? "up" : "down"}${link.master === BRIDGE ? "" : ", off the bridge"}`;
}
