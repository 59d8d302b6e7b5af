import { z } from "zod";
import { SWARM_NODE_ID } from "./agent-credential.ts";
import type { LaneOffer } from "./channel-lane.ts";
import { ChannelCallSchema, ChannelPushSchemas, PlacementGeneration } from "./channel-ops.ts";
import { EngineEventSchema, OutputChunkSchema } from "./engine-methods.ts";
import { type LinkError, LinkErrorSchema } from "./link-error.ts";
import { NetworkCallSchema } from "./network-ops.ts";
import { UsageCallSchema } from "./usage-ops.ts";

/**
 * The wire between berth's API servers and its node agents. A node agent
 * dials out to every API server (nodes have no inbound port) and connects to
 * this Socket.IO namespace of the server's own Socket.IO server; clients never
 * reach it, and agents never reach the clients' namespace.
 *
 * Messages are envelopes with a `kind`, so that later kinds (a workload's
 * channel, a release to materialise, a fence) travel beside the engine's
 * calls on the same connection:
 * - API → agent `call` (acknowledged with a CallAnswer): of the engine port
 *   (`engine`), of a workload's files on the node (`files`), or a sample of a
 *   workload's resource usage (`usage`, usage-ops.ts), or an owner's network
 *   on the node (`network`, network-ops.ts); and `cancel` of a
 *   call in flight (a wait) or of an event subscription or output follow; `lease`, renewing the
 *   agent's lease while the server reaches its store; `lane`, the offer of a
 *   channel lane, the faster wire of workload channels (channel-lane.ts);
 * - agent → API `push`: what the agent sends unasked (engine events of a subscription, and its end;
 *   a workload's output of a `readLogs` or `followLogs` call, and a follow's end;
 *   a workload channel's events and snapshots, to every server it is connected to — channel-ops.ts).
 */
export const AGENTS_NAMESPACE = "/agents";

/** A call's id, unique among the calls and subscriptions of one connection. */
const CallId = z.string().min(1).max(32);

/**
 * What an agent says when it connects (the handshake's `auth`): its node's
 * credential (agent-credential.ts), and which node it serves — the Swarm node
 * id its engine reports (`docker info`: Swarm.NodeID), which the credential
 * must be the one of, its hostname, and whether it can filter outbound
 * workloads. Unknown fields are dropped,
 * not refused: Socket.IO's client adds its own (`pid`, `offset`) on a reconnect.
 */
export const AgentHelloSchema = z.object({
  credential: z.string().max(1024),
  nodeId: z.string().regex(SWARM_NODE_ID, "must be a Swarm node id"),
  hostname: z.string().min(1).max(253),
  version: z.string().min(1).max(64),
  /**
   * Whether the node can filter outbound workloads (`network: "outbound"`), as the agent found at its
   * start: iptables with the engine's DOCKER-USER chain. The API servers place outbound workloads on
   * nodes that said true. Optional: an agent of an older berth does not say, and still connects.
   */
  egressFilter: z.boolean().optional(),
});
export type AgentHello = z.output<typeof AgentHelloSchema>;

/** The node an agent serves, as the API side knows it (the hello without its credential). */
export type AgentIdentity = Omit<AgentHello, "credential">;

export const EngineCallSchema = z.strictObject({
  kind: z.literal("engine"),
  id: CallId,
  /** A method of the engine port; the agent checks it against ENGINE_METHODS. */
  method: z.string().min(1).max(64),
  args: z.array(z.unknown()).max(8),
});

/** A workload's files on the agent's node; the agent checks `op` against FILES_OPS (files-ops.ts). */
export const FilesCallSchema = z.strictObject({
  kind: z.literal("files"),
  id: CallId,
  op: z.string().min(1).max(64),
  args: z.array(z.unknown()).max(4),
  /** The placement generation the server routes by (generation-fence.ts): older than the agent knows, refused. */
  generation: PlacementGeneration.optional(),
});

export const CallSchema = z.discriminatedUnion("kind", [
  EngineCallSchema,
  FilesCallSchema,
  ChannelCallSchema,
  UsageCallSchema,
  NetworkCallSchema,
]);
export type Call = z.output<typeof CallSchema>;

export const CancelSchema = z.strictObject({ id: CallId });
export type Cancel = z.output<typeof CancelSchema>;

export const CallAnswerSchema = z.discriminatedUnion("ok", [
  z.strictObject({ ok: z.literal(true), value: z.unknown() }),
  z.strictObject({ ok: z.literal(false), error: LinkErrorSchema }),
]);
export type CallAnswer = { ok: true; value: unknown } | { ok: false; error: LinkError };

export const PushSchema = z.discriminatedUnion("kind", [
  z.strictObject({ kind: z.literal("engine-event"), subscription: CallId, event: EngineEventSchema }),
  /** Output of a `readLogs` or `followLogs` call (its id), as the engine sent it: raw, in order. */
  z.strictObject({ kind: z.literal("engine-output"), subscription: CallId, data: OutputChunkSchema }),
  /** The agent's event stream of a subscription, or an output follow, ended: closed, or lost (`error`). */
  z.strictObject({
    kind: z.literal("engine-events-ended"),
    subscription: CallId,
    error: LinkErrorSchema.optional(),
  }),
  /**
   * On the link, when the agent's channel lane opens: its channel pushes go on the lane from here on. The
   * server holds what the lane brings until it reads this, so that a push still on its way on the link is
   * taken before the lane's (two connections are read in no set order).
   */
  z.strictObject({ kind: z.literal("channel-pushes-on-lane") }),
  ...ChannelPushSchemas,
]);
export type Push = z.output<typeof PushSchema>;

/**
 * An API server's word that it reaches its store (PostgreSQL) now, and so
 * speaks for the placements: the agent's lease (agent-lease.ts) runs for
 * `ttlMs` (at most its own BERTH_AGENT_LEASE_MS) from each one. A server
 * whose store does not answer sends none, and an agent no server vouches for
 * fences itself: its channels closed, then its workloads stopped.
 */
export const LeaseSchema = z.strictObject({ ttlMs: z.number().int().positive().max(3_600_000) });
export type Lease = z.output<typeof LeaseSchema>;

/**
 * Why the API server ends an agent's connection, told just before it does:
 * `replaced` — a newer connection says the same node id, so another agent
 * process serves this node there (the one told should not dial straight
 * back, or the two would take turns without end); `closing` — the server is
 * shutting down; `node_down` — Swarm calls the agent's node down, and its
 * workloads are being moved (the calls waiting on it fail at once; an agent
 * that hears this is alive, and dials again as after `closing`).
 */
export const GoodbyeSchema = z.strictObject({ reason: z.enum(["replaced", "closing", "node_down"]) });
export type Goodbye = z.output<typeof GoodbyeSchema>;

/** Events the API server sends to an agent (the agent validates every one: `unknown` until it has). */
export interface ApiToAgentEvents {
  call: (call: Call, ack: (answer: CallAnswer) => void) => void;
  cancel: (cancel: Cancel) => void;
  goodbye: (goodbye: Goodbye) => void;
  lease: (lease: Lease) => void;
  /** A channel lane offered (channel-lane.ts): the agent opens it with this token. */
  lane: (offer: LaneOffer) => void;
}

/** Events an agent sends to the API server. */
export interface AgentToApiEvents {
  push: (push: Push) => void;
}
