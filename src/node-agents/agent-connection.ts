import { EventEmitter } from "node:events";
import type { Socket } from "socket.io";
import type { WebSocket } from "ws";
import type { z } from "zod";
import {
  type AgentIdentity,
  type ApiToAgentEvents,
  type Call,
  CallAnswerSchema,
  type Goodbye,
  type Push,
  PushSchema,
} from "../agent-link/agent-link-contract.ts";
import type { LaneOffer } from "../agent-link/channel-lane.ts";
import {
  CHANNEL_OPS,
  type ChannelAnswerOf,
  type ChannelArgsOf,
  type ChannelOp,
  channelOpTimeoutMs,
} from "../agent-link/channel-ops.ts";
import { asOkAnswer } from "../agent-link/channel-request-check.ts";
import {
  type AnswerOf,
  type ArgsOf,
  ENGINE_METHODS,
  type EngineMethod,
} from "../agent-link/engine-methods.ts";
import { FILES_OPS, type FilesAnswerOf, type FilesArgsOf, type FilesOp } from "../agent-link/files-ops.ts";
import { fromLinkError } from "../agent-link/link-error.ts";
import {
  NETWORK_OPS,
  type NetworkAnswerOf,
  type NetworkArgsOf,
  type NetworkOp,
} from "../agent-link/network-ops.ts";
import { USAGE_OPS, type UsageAnswerOf, type UsageArgsOf, type UsageOp } from "../agent-link/usage-ops.ts";
import type { EngineEvent, EventSubscription } from "../docker/docker-client.ts";
import type { BerthError } from "../errors/berth-error.ts";
import { DockerUnavailableError, InternalError } from "../errors/errors.ts";
import type { SystemLogger } from "../logging/system-logger.ts";
import { ChannelLane } from "./channel-lane.ts";
import { LinkCalls } from "./link-calls.ts";

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

/**
 * How long the calls of a channel lane that closed wait for its link's end before they fail as the lane's
 * loss: both connections of an agent that died close at once, and are heard within the same few ticks.
 */
const LANE_LOSS_GRACE_MS = 250;

/** Lane pushes held for the link's word at most (a snapshot and the changes of a moment). */
const MAX_HELD_LANE_PUSHES = 10_000;

export const DEFAULT_AGENT_CONNECTION_LIMITS: AgentConnectionLimits = { waits: 4096, subscriptions: 4096 };

/** What an API server hears from an agent: untyped until checked here. */
interface Inbound {
  push: (raw: unknown) => void;
}

export type AgentSocket = Socket<Inbound, ApiToAgentEvents>;

/** A push of a workload's channel (channel-ops.ts), checked. */
export type ChannelPush = Extract<Push, { kind: "channel-event" | "channel-snapshot" }>;

/** What a channel op fails with when the agent's connection ends, or no answer comes in time. */
export interface ChannelCallFailures {
  lost: (reason: string) => Error;
  timedOut: (timeoutMs: number) => Error;
}

/** An event subscription, an output follow, or a read of output under way: where its pushes go. */
interface Subscription {
  onEvent?: (e: EngineEvent) => void;
  onOutput?: (chunk: Buffer) => void;
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
 *
 * A workload's output (`readLogs`, `followLogs`) arrives as pushes under the
 * call's id, routed to its reader as engine events are to their listener.
 *
 * About 580 lines: the five kinds of call one connection carries (engine,
 * files, channel, usage, network) share its sending (LinkCalls, on the link or
 * the channel lane — whose frames are ChannelLane's, and whose pushes this
 * class orders against the link's), its end and one check of their answers
 * (`#checked`); what is left to split out is the streams (event
 * subscriptions, output reads and follows, and their limits), which share the
 * push routing.
 */
export class AgentConnection {
  readonly identity: AgentIdentity;
  readonly connectedAt: number;
  readonly #socket: AgentSocket;
  readonly #log: SystemLogger;
  /** Calls awaiting their answer, by id: how to fail each when the connection ends (`reason`). */
  readonly #subscriptions = new Map<string, Subscription>();
  readonly #timeouts: CallTimeouts;
  readonly #limits: AgentConnectionLimits;
  /** Waits (`waitForExit`) sent and not settled yet. */
  #waits = 0;
  /** The limits ("waits", "subscriptions") at which a refusal was logged since the connection was last under them. */
  readonly #overLogged = new Set<string>();
  readonly #calls: LinkCalls;
  readonly #channelPushes = new EventEmitter<{ push: [ChannelPush] }>();
  /** The agent's channel lane (channel-lane.ts), while one is open. */
  #lane: ChannelLane | undefined;
  /** What lanes brought before the link said the agent's channel pushes moved there (`channel-pushes-on-lane`). */
  #heldLanePushes: unknown[] | undefined;
  #closed: string | undefined;

  constructor(
    socket: AgentSocket,
    identity: AgentIdentity,
    log: SystemLogger,
    timeouts = methodTimeouts,
    limits = DEFAULT_AGENT_CONNECTION_LIMITS,
  ) {
    this.#socket = socket;
    this.#calls = new LinkCalls(socket);
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
    return { calls: this.#calls.size, waits: this.#waits, subscriptions: this.#subscriptions.size };
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

  /**
   * Asks the agent to do one thing to a workload's files on its node; rejects with berth's errors.
   * `generation`: the placement this server routes by (the agent refuses one older than it knows).
   */
  callFiles<O extends FilesOp>(op: O, args: FilesArgsOf<O>, generation?: number): Promise<FilesAnswerOf<O>> {
    // null on the wire is the port's `undefined`, as for the engine's calls.
    return this.#opCall("files", op, args, FILES_OPS[op], generation).then(
      (value) => value ?? undefined,
    ) as Promise<FilesAnswerOf<O>>;
  }

  /** Asks the agent for one sample of a workload's resource usage on its node; rejects with berth's errors. */
  callUsage<O extends UsageOp>(op: O, args: UsageArgsOf<O>): Promise<UsageAnswerOf<O>> {
    return this.#opCall("usage", op, args, USAGE_OPS[op]) as Promise<UsageAnswerOf<O>>;
  }

  /** Asks the agent to make or remove an owner's network on its node (network-ops.ts); rejects with berth's errors. */
  callNetwork<O extends NetworkOp>(op: O, args: NetworkArgsOf<O>): Promise<NetworkAnswerOf<O>> {
    return this.#opCall("network", op, args, NETWORK_OPS[op]) as Promise<NetworkAnswerOf<O>>;
  }

  /** One call of a kind whose ops each name their timeout and answer schema (files, usage, network). */
  #opCall(
    kind: "files" | "usage" | "network",
    op: string,
    args: readonly unknown[],
    spec: { timeoutMs: number; answer: z.ZodType },
    generation?: number,
  ): Promise<unknown> {
    const method = `${kind}.${op}`;
    const { timeoutMs } = spec;
    return this.#calls
      .send({
        envelope: (id) =>
          ({ kind, id, op, args, ...(generation === undefined ? {} : { generation }) }) as Call,
        timeoutMs,
        signal: undefined,
        read: (raw) => this.#checked(method, raw, spec.answer),
        lost: (reason) => this.#unavailable(method, reason),
        timedOut: () => this.#unavailable(method, `no answer within ${timeoutMs} ms`),
      })
      .then((answer) => answer.value);
  }

  /**
   * Reads a workload's last output on the node (the engine's raw log stream): each piece to `onChunk`, in
   * order, and resolves once the last has come.
   */
  async readOutput(
    dockerId: string,
    opts: ArgsOf<"readLogs">[1],
    onChunk: (chunk: Buffer) => void,
  ): Promise<void> {
    const full = this.#overLimit(
      "readLogs",
      "subscriptions",
      this.#subscriptions.size,
      this.#limits.subscriptions,
    );
    if (full) throw full;
    let callId: string | undefined;
    try {
      await this.#call("readLogs", [dockerId, opts], undefined, (sent) => {
        // Before the call is sent: its output comes before its answer.
        callId = sent;
        this.#subscriptions.set(sent, { onOutput: onChunk });
      });
    } finally {
      if (callId !== undefined) this.#subscriptions.delete(callId);
    }
  }

  /** Follows a workload's output on the node: each piece to `onChunk` as the engine sends it, until closed or ended. */
  followOutput(
    dockerId: string,
    opts: ArgsOf<"followLogs">[1],
    onChunk: (chunk: Buffer) => void,
  ): Promise<EventSubscription> {
    return this.#open("followLogs", [dockerId, opts], { onOutput: onChunk });
  }

  /** Hears every channel push of this connection (checked against the contract; not yet against placements). */
  onChannelPush(listener: (push: ChannelPush) => void): () => void {
    this.#channelPushes.on("push", listener);
    return () => this.#channelPushes.off("push", listener);
  }

  /** Follows the node engine's container events with these labels, from `sinceMs` on. */
  subscribe(
    labels: Record<string, string>,
    sinceMs: number,
    onEvent: (e: EngineEvent) => void,
  ): Promise<EventSubscription> {
    return this.#open("streamEvents", [labels, sinceMs], { onEvent });
  }

  /** A call whose answer opens a stream of pushes under its id (events, output), until closed or ended. */
  async #open<M extends "streamEvents" | "followLogs">(
    method: M,
    args: ArgsOf<M>,
    subscription: Subscription,
  ): Promise<EventSubscription> {
    const full = this.#overLimit(
      method,
      "subscriptions",
      this.#subscriptions.size,
      this.#limits.subscriptions,
    );
    if (full) throw full;
    let callId: string | undefined;
    const { id } = await this.#call(method, args, undefined, (sent) => {
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
    this.#lane?.close();
    this.#socket.off("push", this.#onPush);
    this.#channelPushes.removeAllListeners();
    this.#calls.fail(reason);
    for (const [id, subscription] of this.#subscriptions)
      this.#end(id, subscription, this.#unavailable("events", reason));
  }

  /** Whether the connection has ended. */
  get isClosed(): boolean {
    return this.#closed !== undefined;
  }

  /** Offers the agent a channel lane (ChannelLaneAcceptor): it opens it with the offer's token. */
  offerLane(offer: LaneOffer): void {
    if (this.#closed === undefined) this.#socket.emit("lane", offer);
  }

  /** Whether a channel lane is open now. */
  get hasLane(): boolean {
    return this.#lane !== undefined;
  }

  /**
   * The agent opened the channel lane this connection offered it (ChannelLaneAcceptor): channel calls go on
   * it from now on, and what the agent sends there is read as on the link. `onClosed`: told when it closes
   * while this connection lasts. A lane for a connection that has ended is closed at once.
   */
  attachLane(ws: WebSocket, options: { maxBufferedBytes: number; onClosed?: () => void }): void {
    const { onClosed } = options;
    const lane = new ChannelLane(
      ws,
      {
        answer: (from, id, raw) => this.#calls.answer(from, id, raw),
        push: (raw) => this.#fromLane(lane, raw),
        closed: (from, reason) => {
          // New calls go on the link at once. Those waiting on the lane fail a moment later, unless the link's
          // own end fails them first: an agent that dies closes both connections, in either order, and its calls
          // should fail as an agent lost does (a node's engine unreachable), not as a lane lost.
          this.#calls.leaveLane(from);
          setTimeout(() => this.#calls.dropLane(from, reason), LANE_LOSS_GRACE_MS).unref();
          if (this.#lane !== from) return;
          this.#lane = undefined;
          if (this.#closed === undefined) onClosed?.();
        },
      },
      this.#log,
      { maxBufferedBytes: options.maxBufferedBytes },
    );
    if (this.#closed !== undefined) {
      lane.close();
      return;
    }
    this.#heldLanePushes ??= [];
    const previous = this.#lane;
    this.#lane = lane;
    this.#calls.useLane(lane);
    previous?.close();
  }

  /**
   * A push that came on `lane`: taken now, or held until the link says the agent's pushes moved to the lane
   * (its `channel-pushes-on-lane`), after whatever the link still carried. A lane that holds more than an
   * agent would send while its word crosses the link is broken: closed (its pushes then come on the link).
   */
  #fromLane(lane: ChannelLane, raw: unknown): void {
    const held = this.#heldLanePushes;
    if (held === undefined) {
      this.#onPush(raw);
      return;
    }
    if (held.length < MAX_HELD_LANE_PUSHES) {
      held.push(raw);
      return;
    }
    this.#log.warn(
      { held: held.length },
      "closed a node agent's channel lane: its pushes came without the link's word",
    );
    this.#heldLanePushes = undefined;
    lane.close();
  }

  /** Renews the agent's lease for `ttlMs`: this server reaches its store now (AgentLeaseRenewer). */
  renewLease(ttlMs: number): void {
    if (this.#closed === undefined) this.#socket.emit("lease", { ttlMs });
  }

  /** Ends the connection from this side, telling the agent why (see Goodbye). */
  disconnect(goodbye: Goodbye["reason"], reason: string): void {
    this.closed(reason);
    this.#socket.emit("goodbye", { reason: goodbye });
    this.#socket.disconnect(true);
  }

  /**
   * Asks the agent to run one op on a workload's channel (channel-ops.ts). Its answer is checked, its
   * error rebuilt as the channel's own class; `failures` says what a lost connection or a missing
   * answer is for this op (the channel's errors, not the engine's). `generation`: the placement this
   * server routes by, which the agent checks (a call routed by an older one than it knows is refused).
   */
  channel<O extends ChannelOp>(
    op: O,
    args: ChannelArgsOf<O>,
    failures: ChannelCallFailures,
    signal?: AbortSignal,
    generation?: number,
  ): Promise<ChannelAnswerOf<O>> {
    const timeoutMs = channelOpTimeoutMs(op, args as unknown[]);
    return this.#calls
      .send({
        envelope: (id) =>
          generation === undefined
            ? { kind: "channel", id, op, args: args as unknown[] }
            : { kind: "channel", id, op, args: args as unknown[], generation },
        timeoutMs,
        signal,
        lane: (args as unknown[])[0] as string,
        read: (raw) => this.#readChannel(op, raw),
        lost: failures.lost,
        timedOut: () => failures.timedOut(timeoutMs ?? 0),
      })
      .then((answer) => answer.value as ChannelAnswerOf<O>);
  }

  #call<M extends EngineMethod>(
    method: M,
    args: ArgsOf<M>,
    signal: AbortSignal | undefined,
    beforeSend?: (id: string) => void,
  ): Promise<{ id: string; value: AnswerOf<M> }> {
    const timeoutMs = this.#timeouts(method, args);
    return this.#calls.send({
      envelope: (id) => ({ kind: "engine", id, method, args: args as unknown[] }),
      timeoutMs,
      signal,
      read: (raw) => this.#read(method, raw) as AnswerOf<M>,
      lost: (reason) => this.#unavailable(method, reason),
      timedOut: () => this.#unavailable(method, `no answer within ${timeoutMs} ms`),
      ...(beforeSend ? { beforeSend } : {}),
    });
  }

  /** The agent's answer to a channel op: its value, checked; or its error, rebuilt as the channel's. */
  #readChannel(op: ChannelOp, raw: unknown): unknown {
    // A request's answer is any JSON value (its size is RemoteChannels' to check): a success needs no schema.
    if (op === "request") {
      const ok = asOkAnswer(raw);
      if (ok) return ok.value;
    }
    return this.#checked(op, raw, CHANNEL_OPS[op].answer, "channel");
  }

  /** The agent's answer to `method`: its value, checked; or its error, rebuilt. */
  #read(method: EngineMethod, raw: unknown): unknown {
    // null on the wire is the port's `undefined` ("no such image", "nothing to return").
    return this.#checked(method, raw, ENGINE_METHODS[method].answer) ?? undefined;
  }

  /**
   * An answer from the agent: its value, checked against `schema`; or its error, rebuilt as berth's class
   * (as the channel's, for `errorsOf` "channel"). An answer outside the contract is INTERNAL, logged.
   */
  #checked(what: string, raw: unknown, schema: z.ZodType, errorsOf?: "channel"): unknown {
    const answer = CallAnswerSchema.safeParse(raw);
    if (!answer.success) throw this.#malformed(what, answer.error);
    if (!answer.data.ok) throw fromLinkError(answer.data.error, this.nodeId, errorsOf);
    const value = schema.safeParse(answer.data.value);
    if (!value.success) throw this.#malformed(what, value.error);
    return value.data;
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
    const p = push.data;
    if (p.kind === "channel-pushes-on-lane") {
      const held = this.#heldLanePushes ?? [];
      this.#heldLanePushes = undefined;
      for (const raw of held) this.#onPush(raw);
      return;
    }
    if (p.kind === "channel-event" || p.kind === "channel-snapshot") {
      this.#channelPushes.emit("push", p);
      return;
    }
    const subscription = this.#subscriptions.get(p.subscription);
    if (!subscription) return; // closed here while the agent was still sending
    if (p.kind === "engine-event") {
      subscription.onEvent?.(p.event);
      return;
    }
    if (p.kind === "engine-output") {
      subscription.onOutput?.(p.data);
      return;
    }
    const err = p.error && fromLinkError(p.error, this.nodeId);
    this.#end(p.subscription, subscription, err);
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
