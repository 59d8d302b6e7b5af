import { type CallAnswer, CancelSchema } from "../agent-link/agent-link-contract.ts";
import {
  CHANNEL_OPS,
  ChannelCallSchema,
  type ChannelOp,
  isChannelOp,
  type ParsedChannelArgsOf,
} from "../agent-link/channel-ops.ts";
import { asChannelRequest } from "../agent-link/channel-request-check.ts";
import { toLinkError } from "../agent-link/link-error.ts";
import type { ChannelPort } from "../channel/channel-port.ts";
import { ValidationError } from "../errors/errors.ts";
import { fromZodError } from "../errors/to-wire.ts";
import type { SystemLogger } from "../logging/system-logger.ts";
import type { GenerationFence } from "./generation-fence.ts";

type Invokers = {
  [O in ChannelOp]: (args: ParsedChannelArgsOf<O>, signal: AbortSignal) => Promise<unknown>;
};

/**
 * Serves one API server's calls on the workload channels of this node, for
 * the life of one connection to it: the twin of EngineCallServer for the
 * `channel` kind. Every call is checked before the node's channel hub sees
 * it — an op of CHANNEL_OPS, its arguments by that op's schema (ids are berth
 * container ids, owners non-root); a well-formed request, the hot call, by
 * hand first (channel-request-check.ts), with the same result. The hub is
 * berth's own channel code, so a call for a container this agent was not
 * asked to open fails as it does on a single host (CHANNEL_NOT_CONNECTED). A `cancel` aborts a request or a
 * wait for a hello; `close()` (the connection ended) aborts every one, while
 * the channels themselves stay open for the workloads and the other servers.
 */
export class ChannelCallServer {
  readonly #channels: ChannelPort;
  readonly #log: SystemLogger;
  readonly #inFlight = new Map<string, AbortController>();
  readonly #generations: GenerationFence | undefined;
  #closed = false;

  /** `generations`: the agent's fence; a call stamped with an older generation than it knows is refused. */
  constructor(channels: ChannelPort, log: SystemLogger, generations?: GenerationFence) {
    this.#channels = channels;
    this.#log = log;
    this.#generations = generations;
  }

  /** Answers one `call` through `ack`; a call without an acknowledgement is dropped. */
  async call(raw: unknown, ack: unknown): Promise<void> {
    if (typeof ack !== "function") {
      this.#log.warn("dropped a channel call without an acknowledgement");
      return;
    }
    const answer = await this.#answer(raw);
    // As EngineCallServer: an answer whose connection ended must not land on the next one.
    if (this.#closed) return;
    (ack as (answer: CallAnswer) => void)(answer);
  }

  cancel(raw: unknown): void {
    const parsed = CancelSchema.safeParse(raw);
    if (parsed.success) this.#inFlight.get(parsed.data.id)?.abort(new Error("cancelled by the API server"));
  }

  /** Aborts every call in flight. Safe to call twice. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const abort of this.#inFlight.values()) abort.abort(new Error("the API server's connection ended"));
    this.#inFlight.clear();
  }

  get inFlight(): number {
    return this.#inFlight.size;
  }

  async #answer(raw: unknown): Promise<CallAnswer> {
    // A request, well formed: checked by hand (channel-request-check.ts); anything else by the schemas.
    const request = asChannelRequest(raw);
    if (request) return this.#run(request.id, "request", request.args, request.generation);
    const call = ChannelCallSchema.safeParse(raw);
    if (!call.success) return failed(fromZodError(call.error));
    const { id, op, args } = call.data;
    if (!isChannelOp(op))
      return failed(new ValidationError(`The node agent has no channel call named '${op}'.`));
    const parsed = CHANNEL_OPS[op].args.safeParse(args);
    if (!parsed.success) {
      this.#log.warn({ op, issues: parsed.error.issues.length }, "refused a channel call's arguments");
      return failed(fromZodError(parsed.error));
    }
    return this.#run(id, op, parsed.data, call.data.generation);
  }

  async #run(id: string, op: ChannelOp, args: unknown, generation: number | undefined): Promise<CallAnswer> {
    if (this.#inFlight.has(id))
      return failed(new ValidationError(`The call id '${id}' is in use on this connection.`));
    if (this.#closed) return failed(new ValidationError("The connection has ended."));
    const abort = new AbortController();
    this.#inFlight.set(id, abort);
    try {
      // Routed by an older placement than this node was told of: refused (STALE_PLACEMENT), never served.
      this.#generations?.check((args as [string])[0], generation);
      const invoke = this.#invokers[op] as (args: unknown, signal: AbortSignal) => Promise<unknown>;
      const value = await invoke(args, abort.signal);
      return { ok: true, value: value ?? null };
    } catch (err) {
      if (!abort.signal.aborted) this.#log.debug({ err, op }, "channel call failed");
      return failed(err);
    } finally {
      this.#inFlight.delete(id);
    }
  }

  readonly #invokers: Invokers = {
    open: ([id, owner]) => this.#channels.open(id, owner),
    close: ([id]) => this.#channels.close(id),
    send: ([id, data]) => this.#channels.send(id, data),
    request: ([id, data, timeoutMs], signal) => this.#channels.request(id, data, { timeoutMs, signal }),
    ping: ([id, timeoutMs]) => this.#channels.ping(id, timeoutMs),
    waitForHello: ([id, fresh], signal) => this.#channels.waitForHello(id, { signal, fresh }),
  };
}

function failed(err: unknown): CallAnswer {
  return { ok: false, error: toLinkError(err) };
}
