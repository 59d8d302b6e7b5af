import { z } from "zod";

/**
 * A workload's channel through its node's agent: the calls an API server may
 * make (`{ kind: "channel", id, op, args }`), each with the zod schema of its
 * arguments — checked by the agent before its channel hub sees them — and of
 * its answer — checked by the API side — and what the agent pushes unasked
 * (ChannelPushSchema). The agent runs berth's own channel code
 * (SocketCommunicationHandler) on its node, so the errors are the channel's
 * own classes (link-error.ts, `"channel"`).
 *
 * `lastBadHello` and `status` are not calls: the port answers them
 * synchronously, so the API side keeps what the agent pushed (every change,
 * and a snapshot of every channel when a connection to a server begins).
 */

/**
 * A berth container id (containers/container-id.ts, CONTAINER_ID_PATTERN — a
 * test keeps the two in step): the only names a channel may have on a node,
 * so no call can name a path of the agent's choosing.
 */
export const CHANNEL_CONTAINER_ID = /^C[0-9A-HJKMNP-TV-Z]{11}$/;
export const ContainerIdSchema = z.string().regex(CHANNEL_CONTAINER_ID, "must be a berth container id");

/** The longest timeout a server may send; the agent's own BERTH_MAX_REQUEST_TIMEOUT_MS still caps each. */
export const MAX_CHANNEL_TIMEOUT_MS = 3_600_000;
const TimeoutMs = z.number().int().positive().max(MAX_CHANNEL_TIMEOUT_MS);

// A workload's uid and group: its own, never root's (as the create body's User).
const Uid = z
  .number()
  .int()
  .min(1)
  .max(2 ** 31 - 1);
const OwnerSchema = z
  .strictObject({ uid: Uid, gid: Uid })
  .refine((o) => o.uid === o.gid, "the group must be the workload's own uid");

const EpochMs = z.number().nonnegative();

export const HelloInfoSchema = z.strictObject({
  protocol: z.number(),
  meta: z.unknown().optional(),
  connectedAt: EpochMs,
});

export const ChannelStatusSchema = z.strictObject({
  connected: z.boolean(),
  connectedAt: EpochMs.optional(),
  lastSeenAt: EpochMs.optional(),
  rttMs: z.number().nonnegative().optional(),
  protocol: z.number().optional(),
  meta: z.unknown().optional(),
  inFlight: z.number().int().nonnegative().optional(),
  badFrames: z.number().int().nonnegative().optional(),
});

const BadHelloReasonSchema = z.enum(["invalid_hello", "protocol_mismatch", "hello_timeout"]);

export const BadHelloInfoSchema = z.strictObject({
  reason: BadHelloReasonSchema,
  message: z.string().max(1024),
  at: EpochMs,
});

/** The API side's margin over a call's own timeout: the agent's CHANNEL_TIMEOUT should arrive first. */
export const CHANNEL_CALL_MARGIN_MS = 5_000;
const DEFAULT_TIMEOUT_MS = 30_000;

interface OpSchema<Args extends z.ZodType, Answer extends z.ZodType> {
  args: Args;
  answer: Answer;
}
const op = <Args extends z.ZodType, Answer extends z.ZodType>(
  args: Args,
  answer: Answer,
): OpSchema<Args, Answer> => ({ args, answer });

export const CHANNEL_OPS = {
  open: op(z.tuple([ContainerIdSchema, OwnerSchema]), z.null()),
  close: op(z.tuple([ContainerIdSchema]), z.null()),
  send: op(z.tuple([ContainerIdSchema, z.unknown()]), z.null()),
  request: op(z.tuple([ContainerIdSchema, z.unknown(), TimeoutMs]), z.unknown()),
  ping: op(z.tuple([ContainerIdSchema, TimeoutMs]), z.number().nonnegative()),
  // As long as the caller waits: it sends `cancel`, or the link's end fails it.
  waitForHello: op(z.tuple([ContainerIdSchema, z.boolean()]), HelloInfoSchema),
} as const;

export type ChannelOp = keyof typeof CHANNEL_OPS;
export type ChannelArgsOf<O extends ChannelOp> = z.input<(typeof CHANNEL_OPS)[O]["args"]>;
export type ParsedChannelArgsOf<O extends ChannelOp> = z.output<(typeof CHANNEL_OPS)[O]["args"]>;
export type ChannelAnswerOf<O extends ChannelOp> = z.output<(typeof CHANNEL_OPS)[O]["answer"]>;

export function isChannelOp(name: string): name is ChannelOp {
  return Object.hasOwn(CHANNEL_OPS, name);
}

/** How long the API side waits for an op's answer; undefined: as long as the link lasts (cancel to stop). */
export function channelOpTimeoutMs(op: ChannelOp, args: readonly unknown[]): number | undefined {
  if (op === "waitForHello") return undefined;
  if (op === "request") return (args[2] as number) + CHANNEL_CALL_MARGIN_MS;
  if (op === "ping") return (args[1] as number) + CHANNEL_CALL_MARGIN_MS;
  return DEFAULT_TIMEOUT_MS;
}

/** A call's id on one connection (as agent-link-contract.ts's). */
export const MAX_CALL_ID_LENGTH = 32;
const CallId = z.string().min(1).max(MAX_CALL_ID_LENGTH);

/** A placement's generation (the store's fencing token): 1, 2, 3 … */
export const PlacementGeneration = z.number().int().positive().max(Number.MAX_SAFE_INTEGER);

export const ChannelCallSchema = z.strictObject({
  kind: z.literal("channel"),
  id: CallId,
  /** An op of CHANNEL_OPS; the agent checks it. */
  op: z.string().min(1).max(64),
  args: z.array(z.unknown()).max(4),
  /** The placement generation the server routes by (generation-fence.ts): older than the agent knows, refused. */
  generation: PlacementGeneration.optional(),
});

/** One change on one channel, as the agent's hub emitted it. */
const ChannelEventSchema = z.discriminatedUnion("type", [
  z.strictObject({ type: z.literal("message"), data: z.unknown(), ts: EpochMs }),
  z.strictObject({ type: z.literal("connected"), info: HelloInfoSchema, status: ChannelStatusSchema }),
  z.strictObject({
    type: z.literal("disconnected"),
    reason: z.enum([
      "closed",
      "replaced",
      "heartbeat_timeout",
      "too_many_bad_frames",
      "channel_closed",
      "socket_error",
    ]),
    status: ChannelStatusSchema,
  }),
  z.strictObject({ type: z.literal("bad_hello"), bad: BadHelloInfoSchema }),
]);
export type ChannelEvent = z.output<typeof ChannelEventSchema>;

export const ChannelSnapshotEntrySchema = z.strictObject({
  containerId: ContainerIdSchema,
  status: ChannelStatusSchema,
  lastBadHello: BadHelloInfoSchema.optional(),
});
export type ChannelSnapshotEntry = z.output<typeof ChannelSnapshotEntrySchema>;

/** Pushes of the channel, beside the engine's in PushSchema (agent-link-contract.ts). */
export const ChannelPushSchemas = [
  z.strictObject({
    kind: z.literal("channel-event"),
    containerId: ContainerIdSchema,
    event: ChannelEventSchema,
  }),
  /** Every channel the agent holds: sent when a connection to a server begins, so `status(id)` is right there. */
  z.strictObject({
    kind: z.literal("channel-snapshot"),
    channels: z.array(ChannelSnapshotEntrySchema).max(100_000),
  }),
] as const;
