import { type CallAnswer, CallSchema } from "../agent-link/agent-link-contract.ts";
import { toLinkError } from "../agent-link/link-error.ts";
import {
  isNetworkOp,
  NETWORK_OPS,
  type NetworkOp,
  type ParsedNetworkArgsOf,
} from "../agent-link/network-ops.ts";
import { ValidationError } from "../errors/errors.ts";
import { fromZodError } from "../errors/to-wire.ts";
import type { SystemLogger } from "../logging/system-logger.ts";
import type { NodeNetworks } from "./node-networks.ts";

type Invokers = { [O in NetworkOp]: (args: ParsedNetworkArgsOf<O>) => Promise<unknown> };

/**
 * Serves one API server's `network` calls (an owner's network on this node,
 * network-ops.ts) for the life of one connection. Every call is checked
 * before anything is made: the envelope, an operation of the allow-list
 * (NETWORK_OPS), the instance id's and owner's shapes; NodeNetworks builds
 * every name and option itself. An answer whose connection ended meanwhile is
 * dropped, as the engine's calls are (EngineCallServer.call says why).
 */
export class NetworkCallServer {
  readonly #networks: NodeNetworks;
  readonly #log: SystemLogger;
  #closed = false;

  constructor(networks: NodeNetworks, log: SystemLogger) {
    this.#networks = networks;
    this.#log = log;
  }

  async call(raw: unknown, ack: unknown): Promise<void> {
    if (typeof ack !== "function") {
      this.#log.warn("dropped a network call without an acknowledgement");
      return;
    }
    const answer = await this.#answer(raw);
    if (this.#closed) return;
    (ack as (answer: CallAnswer) => void)(answer);
  }

  /** The connection ended: answers still being made are dropped. Safe to call twice. */
  close(): void {
    this.#closed = true;
  }

  async #answer(raw: unknown): Promise<CallAnswer> {
    const call = CallSchema.safeParse(raw);
    if (!call.success) return failed(fromZodError(call.error));
    if (call.data.kind !== "network") return failed(new ValidationError("Not a network call."));
    const { op, args } = call.data;
    if (!isNetworkOp(op))
      return failed(new ValidationError(`The node agent has no network operation named '${op}'.`));
    const parsed = NETWORK_OPS[op].args.safeParse(args);
    if (!parsed.success) {
      this.#log.warn({ op, issues: parsed.error.issues.length }, "refused a network call's arguments");
      return failed(fromZodError(parsed.error));
    }
    if (this.#closed) return failed(new ValidationError("The connection has ended."));
    try {
      const invoke = this.#invokers[op] as (args: unknown) => Promise<unknown>;
      return { ok: true, value: (await invoke(parsed.data)) ?? null };
    } catch (err) {
      this.#log.warn({ err, op }, "network call failed");
      return failed(err);
    }
  }

  readonly #invokers: Invokers = {
    ensure: ([instanceId, owner]) => this.#networks.ensure(instanceId, owner),
    release: ([instanceId, owner]) => this.#networks.release(instanceId, owner),
  };
}

function failed(err: unknown): CallAnswer {
  return { ok: false, error: toLinkError(err) };
}
