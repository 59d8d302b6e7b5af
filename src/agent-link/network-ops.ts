import { z } from "zod";

/**
 * An owner's network on a node, made and removed by that node's agent
 * (`{ kind: "network", id, op, args }`): in cluster mode a workload with
 * `network: 'outbound'` joins its owner's bridge on the node it runs on, with
 * that node's egress filter in place before it starts (agent/node-networks.ts).
 *
 * The agent holds root on its node and its firewall, so it takes nothing
 * free-form from an API server: a call names an owner and the cluster's
 * instance id, each checked here, and the agent builds the network's name,
 * labels and options itself (network/owner-network-spec.ts) and applies its
 * own node's egress policy. No engine `network` call is forwarded at all
 * (engine-methods.ts's NOT_FORWARDED).
 */

/** The cluster's instance id (16 hex digits as berth makes it; an operator's own of letters and digits). */
export const INSTANCE_ID_PATTERN = /^[A-Za-z0-9_-]{8,64}$/;
/** An owner's name as berth allows it (auth/owner-name.ts; `admin` too: the admin's own workloads carry it). */
export const OWNER_PATTERN = /^[A-Za-z0-9_.@-]{1,64}$/;
/** What ownerNetworkName makes: `berth-<8 of the instance id>-<12 hex digits of the owner's hash>`. */
export const NETWORK_NAME_PATTERN = /^berth-[A-Za-z0-9_-]{8}-[0-9a-f]{12}$/;

const InstanceId = z.string().regex(INSTANCE_ID_PATTERN, "must be berth's instance id");
const Owner = z.string().regex(OWNER_PATTERN, "must be an owner's name");

/** Making a bridge and installing its rules (iptables waits up to 5 s per call for the xtables lock). */
const NETWORK_TIMEOUT_MS = 60_000;

interface OpSchema<Args extends z.ZodType, Answer extends z.ZodType> {
  args: Args;
  answer: Answer;
  timeoutMs: number;
}

export const NETWORK_OPS = {
  /**
   * [instance id, owner]: the owner's bridge on this node, made if missing, with this node's egress filter
   * installed (or confirmed) on it; answers its name for the create body. EGRESS_FILTER_UNAVAILABLE when
   * the node cannot filter: nothing is made then.
   */
  ensure: {
    args: z.tuple([InstanceId, Owner]),
    answer: z.strictObject({ name: z.string().regex(NETWORK_NAME_PATTERN) }),
    timeoutMs: NETWORK_TIMEOUT_MS,
  } satisfies OpSchema<z.ZodType, z.ZodType>,
  /**
   * [instance id, owner]: the owner's bridge removed from this node, and its rules with it — unless a
   * container of the node still uses it (answers false then, and keeps both).
   */
  release: {
    args: z.tuple([InstanceId, Owner]),
    answer: z.boolean(),
    timeoutMs: NETWORK_TIMEOUT_MS,
  } satisfies OpSchema<z.ZodType, z.ZodType>,
} as const;

export type NetworkOp = keyof typeof NETWORK_OPS;
export type NetworkArgsOf<O extends NetworkOp> = z.input<(typeof NETWORK_OPS)[O]["args"]>;
export type ParsedNetworkArgsOf<O extends NetworkOp> = z.output<(typeof NETWORK_OPS)[O]["args"]>;
export type NetworkAnswerOf<O extends NetworkOp> = z.output<(typeof NETWORK_OPS)[O]["answer"]>;

export function isNetworkOp(name: string): name is NetworkOp {
  return Object.hasOwn(NETWORK_OPS, name);
}

export const NetworkCallSchema = z.strictObject({
  kind: z.literal("network"),
  id: z.string().min(1).max(32),
  /** An op of NETWORK_OPS; the agent checks it. */
  op: z.string().min(1).max(64),
  args: z.array(z.unknown()).max(4),
});
