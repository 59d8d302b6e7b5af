import type { Socket } from "socket.io";
import {
  type AgentIdentity,
  type ApiToAgentEvents,
  type Call,
  CallAnswerSchema,
  type Goodbye,
  PushSchema,
} from "../agent-link/agent-link-contract.ts";
import {
  type AnswerOf,
  type ArgsOf,
  ENGINE_METHODS,
  type EngineMethod,
} from "../agent-link/engine-methods.ts";
import { FILES_OPS, type FilesAnswerOf, type FilesArgsOf, type FilesOp } from "../agent-link/files-ops.ts";
import { fromLinkError } from "../agent-link/link-error.ts";
import type { EngineEvent, EventSubscription } from "../docker/docker-client.ts";
import type { BerthError } from "../errors/berth-error.ts";
import { DockerUnavailableError, InternalError } from "../errors/errors.ts";
import type { SystemLogger } from "../logging/system-logger.ts";

/** How long the API side waits for the answer to a call; undefined: as long as the connection lasts. */
export type CallTimeouts = (method: EngineMethod, args: unknown) => number | undefined;

/** Each method's own timeout (ENGINE_METHODS). */
export const methodTimeouts: CallTimeouts = (method, args) =>
  (ENGINE_METHODS[method].timeoutMs as (a: unknown) => number | undefined)(args);

/**
 * What one agent connection may hold open on the API side at once: waits
 * (`waitForExit`, which last as long as their container runs) and event
 * subscriptions. berth holds one of each per container at most, so a count
 * in the thousands is a leak on this side; the cap keeps it from piling up
 * on the agent (and on its engine) without bound.
 */
export interface AgentConnectionLimits {
  waits: number;
  subscriptions: number;
}

export const DEFAULT_AGENT_CONNECTION_LIMITS: AgentConnectionLimits = { waits: 4096, subscriptions: 4096 };

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

/** What an API server hears from an agent: untyped until checked here. */
interface Inbound {
  push: (raw: unknown) => void;
}

export type AgentSocket = Socket<Inbound, ApiToAgentEvents>;

interface Subscription {
  onEvent: (e: EngineEvent) => void;
  /** Set once the subscription is handed out; until then, an end is kept in `ended`. */
  settle?: (err: BerthError | undefined) => void;
  ended?: { err: BerthError | undefined };
}

/**
 * One node agent as its API server holds it, for the life of one connection:
 * engine calls sent with their acknowledgement awaited (a timeout per method,
 * an AbortSignal that cancels on the agent too), answers checked against the
 * method's schema, the agent's errors rebuilt as berth's own classes, and the
 * engine events of each subscription routed to its listener.
 *
 * When the connection ends, every call still waiting fails at once with
 * DOCKER_UNAVAILABLE (Socket.IO does not fail an acknowledgement awaited on a
 * socket that disconnected: it would wait forever) and every event
 * subscription ends the same way, as the local adapter's stream does when the
 * engine goes. A wait or a subscription over the connection's limits fails
 * at once with DOCKER_UNAVAILABLE (retryable), without being sent.
 */
export class AgentConnection {
  readonly identity: AgentIdentity;
  readonly connectedAt: number;
  readonly #socket: AgentSocket;
  readonly #log: SystemLogger;
  /** Calls awaiting their answer, by id: how to fail each when the connection ends (`reason`). */
  readonly #pending = new Map<string, (reason: string) => void>();
  readonly #subscriptions = new Map<string, Subscription>();
  readonly #timeouts: CallTimeouts;
  readonly #limits: AgentConnectionLimits;
  /** Waits (`waitForExit`) sent and not settled yet. */
  #waits = 0;
  /** The limits ("waits", "subscriptions") at which a refusal was logged since the connection was last under them. */
  readonly #overLogged = new Set<string>();
  #nextId = 0;
  #closed: string | undefined;

  constructor(
    socket: AgentSocket,
    identity: AgentIdentity,
    log: SystemLogger,
    timeouts = methodTimeouts,
    limits = DEFAULT_AGENT_CONNECTION_LIMITS,
  ) {
    this.#socket = socket;
    this.#timeouts = timeouts;
    this.#limits = limits;
    this.identity = identity;
    this.connectedAt = Date.now();
    this.#log = log;
    socket.on("push", this.#onPush);
  }

  get nodeId(): string {
    return this.identity.nodeId;
  }

  /** Calls (waits among them) and event subscriptions open now. */
  get open(): { calls: number; waits: number; subscriptions: number } {
    return { calls: this.#pending.size, waits: this.#waits, subscriptions: this.#subscriptions.size };
  }

  /** Asks the agent to run one engine call on its node; rejects with berth's errors (see the class). */
  call<M extends EngineMethod>(method: M, args: ArgsOf<M>, signal?: AbortSignal): Promise<AnswerOf<M>> {
    if (method !== "waitForExit") return this.#call(method, args, signal).then((answer) => answer.value);
    const full = this.#overLimit(method, "waits", this.#waits, this.#limits.waits);
    if (full) return Promise.reject(full);
    this.#waits++;
    return this.#call(method, args, signal).then(
      (answer) => {
        this.#waits--;
        return answer.value;
      },
      (err: unknown) => {
        this.#waits--;
        throw err;
      },
    );
  }

  /** Asks the agent to do one thing to a workload's files on its node; rejects with berth's errors. */
  callFiles<O extends FilesOp>(op: O, args: FilesArgsOf<O>): Promise<FilesAnswerOf<O>> {
    const call = { kind: "files" as const, op, args: args as unknown[] };
    return this.#send(
      `files.${op}`,
      call,
      FILES_OPS[op].timeoutMs,
      (raw) => this.#readFiles(op, raw),
      undefined,
    ).then((answer) => answer.value as FilesAnswerOf<O>);
  }

  /** Follows the node engine's container events with these labels, from `sinceMs` on. */
  async subscribe(
    labels: Record<string, string>,
    sinceMs: number,
    onEvent: (e: EngineEvent) => void,
  ): Promise<EventSubscription> {
    const full = this.#overLimit(
      "streamEvents",
      "subscriptions",
      this.#subscriptions.size,
      this.#limits.subscriptions,
    );
    if (full) throw full;
    const subscription: Subscription = { onEvent };
    let callId: string | undefined;
    const { id } = await this.#call("streamEvents", [labels, sinceMs], undefined, (sent) => {
      // Before the call is sent: an event pushed right after the agent subscribed is not lost.
      callId = sent;
      this.#subscriptions.set(sent, subscription);
    }).catch((err: unknown) => {
      if (callId !== undefined) this.#subscriptions.delete(callId);
      throw err;
    });
    const done = new Promise<void>((resolve, reject) => {
      subscription.settle = (err) => (err ? reject(err) : resolve());
    });
    // As the local adapter's: an end before the subscriber awaits `done` is not an unhandled rejection.
    done.catch(() => {});
    if (subscription.ended) subscription.settle?.(subscription.ended.err);
    return {
      done,
      close: () => {
        if (!this.#subscriptions.delete(id)) return;
        if (this.#closed === undefined) this.#socket.emit("cancel", { id });
        subscription.settle?.(undefined);
      },
    };
  }

  /**
   * The connection ended (`reason`): every call waiting fails, every subscription ends, with
   * DOCKER_UNAVAILABLE. Safe to call twice.
   */
  closed(reason: string): void {
    if (this.#closed !== undefined) return;
    this.#closed = reason;
    this.#socket.off("push", this.#onPush);
    for (const fail of [...this.#pending.values()]) fail(reason);
    this.#pending.clear();
    for (const [id, subscription] of this.#subscriptions)
      this.#end(id, subscription, this.#unavailable("events", reason));
  }

  /** Ends the connection from this side, telling the agent why (see Goodbye). */
  disconnect(goodbye: Goodbye["reason"], reason: string): void {
    this.closed(reason);
    this.#socket.emit("goodbye", { reason: goodbye });
    this.#socket.disconnect(true);
  }

  #call<M extends EngineMethod>(
    method: M,
    args: ArgsOf<M>,
    signal: AbortSignal | undefined,
    beforeSend?: (id: string) => void,
  ): Promise<{ id: string; value: AnswerOf<M> }> {
    const call = { kind: "engine" as const, method, args: args as unknown[] };
    return this.#send(
      method,
      call,
      this.#timeouts(method, args),
      (raw) => this.#read(method, raw) as AnswerOf<M>,
      signal,
      beforeSend,
    );
  }

  /**
   * Sends one call (`call`, given its id here) and awaits its answer, read by `read`: failed at once on a
   * closed connection, by `signal` (which cancels on the agent too), after `timeoutMs`, or when the
   * connection ends.
   */
  #send<T>(
    method: string,
    call: DistributiveOmit<Call, "id">,
    timeoutMs: number | undefined,
    read: (raw: unknown) => T,
    signal: AbortSignal | undefined,
    beforeSend?: (id: string) => void,
  ): Promise<{ id: string; value: T }> {
    return new Promise((resolve, reject) => {
      if (this.#closed !== undefined) return reject(this.#unavailable(method, this.#closed));
      if (signal?.aborted) return reject(signal.reason);
      const id = String(++this.#nextId);
      let settled = false;
      let timer: NodeJS.Timeout | undefined;
      const finish = (settle: () => void) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        this.#pending.delete(id);
        signal?.removeEventListener("abort", onAbort);
        settle();
      };
      const onAbort = () => {
        this.#socket.emit("cancel", { id });
        finish(() => reject(signal?.reason));
      };
      signal?.addEventListener("abort", onAbort, { once: true });
      this.#pending.set(id, (reason) => finish(() => reject(this.#unavailable(method, reason))));
      const onAnswer = (raw: unknown) =>
        finish(() => {
          try {
            resolve({ id, value: read(raw) });
          } catch (err) {
            reject(err);
          }
        });
      beforeSend?.(id);
      this.#socket.emit("call", { ...call, id }, onAnswer);
      if (timeoutMs === undefined) return;
      // A timer of berth's own, cleared when the call settles: Socket.IO's per-emit timeout keeps its timer
      // (and with it this connection) until it fires, even for a call that was answered, aborted or failed
      // with the connection long before (up to a stop's own timeout plus its margin).
      timer = setTimeout(() => {
        // The agent may still be at it: a wait or a subscription is cancelled, anything else ends on its own.
        this.#socket.emit("cancel", { id });
        finish(() => reject(this.#unavailable(method, `no answer within ${timeoutMs} ms`)));
      }, timeoutMs);
    });
  }

  /** The agent's answer to `method`: its value, checked; or its error, rebuilt. */
  #read(method: EngineMethod, raw: unknown): unknown {
    const answer = CallAnswerSchema.safeParse(raw);
    if (!answer.success) throw this.#malformed(method, answer.error);
    if (!answer.data.ok) throw fromLinkError(answer.data.error, this.nodeId);
    const value = ENGINE_METHODS[method].answer.safeParse(answer.data.value);
    if (!value.success) throw this.#malformed(method, value.error);
    // null on the wire is the port's `undefined` ("no such image", "nothing to return").
    return value.data ?? undefined;
  }

  /** The agent's answer to a files call: its value, checked; or its error, rebuilt. */
  #readFiles(op: FilesOp, raw: unknown): unknown {
    const answer = CallAnswerSchema.safeParse(raw);
    if (!answer.success) throw this.#malformed(`files.${op}`, answer.error);
    if (!answer.data.ok) throw fromLinkError(answer.data.error, this.nodeId);
    const value = FILES_OPS[op].answer.safeParse(answer.data.value);
    if (!value.success) throw this.#malformed(`files.${op}`, value.error);
    return value.data ?? undefined;
  }

  readonly #onPush = (raw: unknown) => {
    const push = PushSchema.safeParse(raw);
    if (!push.success) {
      this.#log.warn(
        { node: this.nodeId, issues: push.error.issues.length },
        "dropped a malformed push from a node agent",
      );
      return;
    }
    const subscription = this.#subscriptions.get(push.data.subscription);
    if (!subscription) return; // closed here while the agent was still sending
    if (push.data.kind === "engine-event") {
      subscription.onEvent(push.data.event);
      return;
    }
    const err = push.data.error && fromLinkError(push.data.error, this.nodeId);
    this.#end(push.data.subscription, subscription, err);
  };

  #end(id: string, subscription: Subscription, err: BerthError | undefined): void {
    this.#subscriptions.delete(id);
    if (subscription.settle) subscription.settle(err);
    else subscription.ended = { err };
  }

  /**
   * The error for one more of `what` when `open` are open already, or undefined while under the limit.
   * Logged once each time the connection reaches a limit, not at every refusal: a leak would flood the log.
   */
  #overLimit(
    op: EngineMethod,
    what: string,
    open: number,
    limit: number,
  ): DockerUnavailableError | undefined {
    if (open < limit) {
      this.#overLogged.delete(what);
      return undefined;
    }
    if (!this.#overLogged.has(what))
      this.#log.warn(
        { node: this.nodeId, op, open, limit },
        `refused a call: this agent connection holds as many ${what} as it may`,
      );
    this.#overLogged.add(what);
    return this.#unavailable(op, `${open} ${what} open, the most one agent connection may hold`);
  }

  #malformed(method: string, cause: unknown): InternalError {
    this.#log.warn(
      { node: this.nodeId, op: method, err: cause },
      "a node agent answered out of its contract",
    );
    return new InternalError({ cause, details: { op: method } });
  }

  #unavailable(op: string, reason: string): DockerUnavailableError {
    return new DockerUnavailableError({
      details: { op },
      cause: new Error(`node agent of node ${this.nodeId}: ${reason}`),
    });
  }
}
