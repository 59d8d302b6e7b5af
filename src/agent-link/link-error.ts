import { z } from "zod";
import { ERROR_CODES, type ErrorCode } from "#protocol";
import {
  ChannelBusyError,
  ChannelDisconnectedError,
  ChannelNotConnectedError,
  ChannelTimeoutError,
  FrameTooLargeError,
  WorkloadError,
} from "../channel/channel-errors.ts";
import { BerthError, type BerthErrorOptions } from "../errors/berth-error.ts";
import {
  ConflictError,
  DockerError,
  DockerUnavailableError,
  InternalError,
  NotFoundError,
  StorageError,
  ValidationError,
} from "../errors/errors.ts";
import { EgressFilterUnavailableError } from "../network/egress-filter-unavailable-error.ts";
import { STALE_PLACEMENT, StalePlacementRefusal } from "./stale-placement-refusal.ts";

/**
 * An error as it crosses the link between a node agent and an API server:
 * berth's wire error (code, category, message, retryable, details) plus the engine's
 * HTTP status of a DockerError — so that the API side rebuilds the very class
 * the local engine adapter would have thrown (`instanceof DockerError`,
 * `statusCode` 409, …). `cause` never travels: it holds the engine's own
 * text and host paths, which stay in the agent's log.
 */
export const LinkErrorSchema = z.object({
  // berth's codes, and the link's own (STALE_PLACEMENT), which no client ever sees as such.
  code: z.enum([STALE_PLACEMENT, ...(Object.keys(ERROR_CODES) as ErrorCode[])] as [
    typeof STALE_PLACEMENT,
    ...ErrorCode[],
  ]),
  category: z.enum(["validation", "docker", "communication", "system", "auth"]),
  message: z.string().max(4096),
  retryable: z.boolean(),
  details: z.record(z.string(), z.unknown()).optional(),
  statusCode: z.number().int().min(100).max(599).optional(),
});

export type LinkError = z.output<typeof LinkErrorSchema>;

/** What the agent answers a failed call with; anything that is not a BerthError becomes INTERNAL (its text stays behind). */
export function toLinkError(err: unknown): LinkError {
  if (err instanceof StalePlacementRefusal)
    return {
      code: STALE_PLACEMENT,
      category: "communication",
      message: "The call was routed by an older placement of the container than this node knows.",
      retryable: true,
      details: { containerId: err.containerId, generation: err.generation, known: err.known },
    };
  const e = err instanceof BerthError ? err : new InternalError({ cause: err });
  const wire: LinkError = { code: e.code, category: e.category, message: e.message, retryable: e.retryable };
  if (e.details !== undefined) wire.details = e.details;
  if (e instanceof DockerError && e.statusCode !== undefined) wire.statusCode = e.statusCode;
  return wire;
}

type Rebuild = (wire: LinkError, options: BerthErrorOptions) => BerthError;

/** The classes the engine port throws, rebuilt as themselves; any other code is INTERNAL (fromLinkError). */
const CLASSES: Partial<Record<ErrorCode, Rebuild>> = {
  DOCKER_UNAVAILABLE: (_, o) => new DockerUnavailableError(o),
  DOCKER_ERROR: (w, o) => new DockerError(w.message, w.statusCode, o),
  NOT_FOUND: (_, o) => new NotFoundError("engine object", o),
  VALIDATION_FAILED: (w, o) => new ValidationError(w.message, o),
  CONFLICT: (w, o) => new ConflictError(w.message, o),
  STORAGE_ERROR: (_, o) => new StorageError(o),
  INTERNAL: (_, o) => new InternalError(o),
  // A node agent that cannot filter its node's owner networks (network-ops.ts): refused as on one host.
  EGRESS_FILTER_UNAVAILABLE: (_, o) => new EgressFilterUnavailableError({ cause: o.cause }),
};

/**
 * The classes a workload's channel throws, rebuilt from their details (each
 * checked: an agent's word is not taken for their shape) with the class's own
 * message, so that a client sees exactly what the local channel would have
 * said. NOT_FOUND and VALIDATION_FAILED come back as themselves too.
 */
const Reason = z.strictObject({ reason: z.string().max(64) });
const Timeout = z.strictObject({ timeoutMs: z.number().nonnegative() });
const Sizes = z.strictObject({ queuedBytes: z.number().nonnegative(), limitBytes: z.number().nonnegative() });
const Frame = z.strictObject({ bytes: z.number().nonnegative(), limitBytes: z.number().nonnegative() });
const Said = z.strictObject({ message: z.string().max(4096), code: z.string().max(256).optional() });

function fromDetails<T>(schema: z.ZodType<T>, make: (d: T) => BerthError): Rebuild {
  return (w, o) => {
    const details = schema.safeParse(w.details);
    if (!details.success) return new InternalError({ cause: o.cause });
    return make(details.data);
  };
}

const CHANNEL_CLASSES: Partial<Record<ErrorCode, Rebuild>> = {
  CHANNEL_NOT_CONNECTED: (_, o) => new ChannelNotConnectedError(undefined, { cause: o.cause }),
  CHANNEL_DISCONNECTED: fromDetails(Reason, (d) => new ChannelDisconnectedError(d.reason)),
  CHANNEL_TIMEOUT: fromDetails(Timeout, (d) => new ChannelTimeoutError(d.timeoutMs)),
  CHANNEL_BUSY: fromDetails(Sizes, (d) => new ChannelBusyError(d.queuedBytes, d.limitBytes)),
  FRAME_TOO_LARGE: fromDetails(Frame, (d) => new FrameTooLargeError(d.bytes, d.limitBytes)),
  WORKLOAD_ERROR: fromDetails(Said, (d) => new WorkloadError(d)),
  NOT_FOUND: (_, o) => new NotFoundError("channel", o),
  VALIDATION_FAILED: (w, o) => new ValidationError(w.message, o),
  INTERNAL: (_, o) => new InternalError(o),
};

/** Which port's errors a call may answer with: the engine's (the default) or a workload channel's. */
export type LinkErrorClasses = "engine" | "channel";

/**
 * The API side's view of an agent's error: the same class, code, message,
 * retryable flag and details as on the agent, `cause` naming the node it came from.
 * Only the codes the port called throws come back as themselves: an agent must
 * not choose what a client is told beyond them (an UNAUTHORIZED with a message
 * of its own making, say), so any other code is INTERNAL, with nothing of the agent's.
 */
export function fromLinkError(
  wire: LinkError,
  nodeId: string,
  classes: LinkErrorClasses = "engine",
): BerthError {
  const cause = new Error(`answered by the node agent of node ${nodeId} with ${wire.code}`);
  if (wire.code === STALE_PLACEMENT) return staleRoute(classes, cause);
  const table = classes === "engine" ? CLASSES : CHANNEL_CLASSES;
  const rebuild = table[wire.code];
  if (!rebuild) return new InternalError({ cause });
  const options: BerthErrorOptions = {
    retryable: wire.retryable,
    cause,
    ...(wire.details === undefined ? {} : { details: wire.details }),
  };
  const err = rebuild(wire, options);
  if (classes === "channel") {
    // The class's own message and flag: a channel error's text is berth's, not the agent's.
    if (!(err.cause instanceof Error)) Object.defineProperty(err, "cause", { value: cause });
    return err;
  }
  // The agent's own message (e.g. "The container engine could not start the container."), not the class's default.
  err.message = wire.message;
  return err;
}

/**
 * A call the agent refused as routed by an older placement (STALE_PLACEMENT): the workload was placed
 * anew meanwhile, so a retry, routed by the newer placement, may succeed. A channel says so as a
 * workload that is not connected (here) does; the engine and files as another operation on the container.
 */
function staleRoute(classes: LinkErrorClasses, cause: Error): BerthError {
  const details = { reason: "stale_placement" };
  if (classes === "channel") return new ChannelNotConnectedError(undefined, { cause, details });
  return new ConflictError("The container was placed on another node meanwhile; try again.", {
    cause,
    details,
  });
}
