import { EventEmitter } from "node:events";
import type { ChannelSnapshotEntry } from "../agent-link/channel-ops.ts";
import {
  ChannelDisconnectedError,
  ChannelNotConnectedError,
  ChannelTimeoutError,
  FrameTooLargeError,
} from "../channel/channel-errors.ts";
import type { ChannelPort, RequestOptions } from "../channel/channel-port.ts";
import type {
  BadHelloInfo,
  ChannelStatus,
  HelloInfo,
  SocketCommunicationEvents,
} from "../channel/channel-types.ts";
import { DockerUnavailableError, ShuttingDownError, ValidationError } from "../errors/errors.ts";
import { RepeatedLog } from "../logging/repeated-log.ts";
import type { SystemLogger } from "../logging/system-logger.ts";
import type { AgentConnection, ChannelCallFailures, ChannelPush } from "./agent-connection.ts";
import type { AgentRegistry } from "./agent-registry.ts";
import { PlacementGate } from "./placement-gate.ts";
import { AGENT_LOST, helloOf, PushedChannelStates } from "./pushed-channel-states.ts";

export interface RemoteChannelsOptions {
  registry: AgentRegistry;
  /**
   * The node a container is placed on now (its placement, read from the store every API server shares:
   * another server may have moved it), undefined when none.
   */
  nodeOf: (containerId: string) => Promise<string | undefined>;
  /**
   * The container's placement now, with its generation (the composition's PlacementCache): when given,
   * calls are routed by it and stamped with the generation, which the agent checks (a call routed by an
   * older placement than it knows is refused, and fails here as CHANNEL_NOT_CONNECTED, retryable).
   */
  placementOf?: (containerId: string) => Promise<{ nodeId: string; generation: number } | undefined>;
  /**
   * How long a placement read for a push is taken as known (default 1 s): a workload moved by another
   * API server can be heard on its old node for at most this long after the move. 0: read for every push.
   */
  placementFreshMs?: number;
  /** This server's BERTH_MAX_FRAME_BYTES: no message or answer from an agent is larger. */
  maxFrameBytes: number;
  /** This server's BERTH_MAX_REQUEST_TIMEOUT_MS (the agent's own caps it again). */
  maxRequestTimeoutMs: number;
  log: SystemLogger;
}

const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;
const DEFAULT_PING_TIMEOUT_MS = 5_000;

/**
 * The workload channels of a cluster, each served by the node agent of the
 * node its container is placed on (`nodeOf`): the same port as the local
 * SocketCommunicationHandler, so lifecycle, health and the API cannot tell
 * them apart. Each call goes to that node's agent at the moment of the call
 * (as RemoteDockerClient's); with none connected it fails as the local
 * channel fails for a workload that is not connected (CHANNEL_NOT_CONNECTED).
 *
 * `status(id)` and `lastBadHello(id)` answer synchronously from what the
 * agent pushed: each change, and a snapshot of all its channels whenever its
 * connection begins. When an agent's connection ends, its node's channels
 * are marked disconnected here (with the `disconnected` events the local hub
 * would emit) and every call waiting on it fails at once. Workload messages
 * are emitted as the local hub emits them. An agent is believed only about
 * containers placed on its own node: a push for another is logged and dropped.
 * Every call reads the container's placement from the store, and a push is
 * judged by a placement read at most a second before (PlacementGate): a
 * workload moved to another node by another API server is not reached, nor
 * heard, on its old node. An agent's pushes are taken in the order it sent
 * them: one that must wait for a read holds the ones after it.
 *
 * Over 300 lines: the port's calls and the judging of the agents' pushes share
 * one state (which channels this server opened, on which node); the push queue
 * is the part to move out first.
 *
 * @example
 *   const channels = new RemoteChannels({ registry, nodeOf: (id) => placements.nodeOf(id), maxFrameBytes, maxRequestTimeoutMs, log });
 *   channels.on("message", (id, data, ts) => forward(id, data, ts));
 *   await channels.open(id, { uid, gid: uid });
 */
export class RemoteChannels extends EventEmitter<SocketCommunicationEvents> implements ChannelPort {
  readonly #o: RemoteChannelsOptions;
  /** What an agent can cause at will (pushes out of bounds) is logged once, then counted. */
  readonly #repeated: RepeatedLog;
  readonly #states = new PushedChannelStates((event, ...args) => this.#emitSafely(event, ...args));
  /** How to stop hearing each connected agent's pushes. */
  readonly #listening = new Map<AgentConnection, () => void>();
  /** Per agent connection, its pushes waiting behind a read of a placement, in the order they came. */
  readonly #pushQueues = new Map<AgentConnection, Promise<void>>();
  readonly #placements: PlacementGate;
  #inFlight = 0;
  #closed = false;
  /** Aborted by closeAll(): a wait for a hello under way ends then, as the local hub's waits end when it closes. */
  readonly #closing = new AbortController();

  constructor(options: RemoteChannelsOptions) {
    super();
    this.#o = options;
    this.#placements = new PlacementGate(options.nodeOf, { freshMs: options.placementFreshMs ?? 1_000 });
    this.#repeated = new RepeatedLog(options.log);
    options.registry.on("connected", this.#onAgent);
    options.registry.on("disconnected", this.#onAgentGone);
    for (const agent of options.registry.agents) this.#onAgent(agent);
  }

  async open(id: string, owner: { uid: number; gid: number }): Promise<void> {
    if (this.#closed) throw new ShuttingDownError();
    const { nodeId, generation } = await this.#route(id);
    if (nodeId === undefined) throw new ValidationError("The container is not placed on any node.");
    const agent = this.#o.registry.agentFor(nodeId);
    if (!agent) throw unreachable(nodeId, "open");
    await agent.channel("open", [id, owner], this.#engineFailures(nodeId, "open"), undefined, generation);
    this.#states.opened(id, nodeId, owner);
  }

  async close(id: string): Promise<void> {
    // The node it was opened on, if its placement is gone already (a delete may end the placement first).
    const route = await this.#route(id);
    const nodeId = route.nodeId ?? this.#states.nodeOf(id);
    this.#placements.forget(id);
    if (nodeId === undefined) return;
    const agent = this.#o.registry.agentFor(nodeId);
    if (!agent) throw unreachable(nodeId, "close");
    const generation = route.nodeId === undefined ? undefined : route.generation;
    await agent.channel("close", [id], this.#engineFailures(nodeId, "close"), undefined, generation);
    this.#states.closed(id);
  }

  /**
   * This server stops using the channels. The agents' channels stay open: they serve the workloads
   * and the other API servers, and outlive any one server.
   */
  closeAll(): Promise<void> {
    if (this.#closed) return Promise.resolve();
    this.#closed = true;
    this.#closing.abort(new ShuttingDownError());
    this.#o.registry.off("connected", this.#onAgent);
    this.#o.registry.off("disconnected", this.#onAgentGone);
    for (const stop of this.#listening.values()) stop();
    this.#listening.clear();
    this.#repeated.close();
    return Promise.resolve();
  }

  async send(id: string, data: unknown): Promise<void> {
    const [agent, generation] = await this.#agentOf(id);
    await agent.channel("send", [id, data], CHANNEL_FAILURES, undefined, generation);
  }

  async request(id: string, data: unknown, opts?: RequestOptions): Promise<unknown> {
    const timeoutMs = opts?.timeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
    if (!(timeoutMs > 0)) throw new ValidationError("timeoutMs must be a positive number.");
    const [agent, generation] = await this.#agentOf(id);
    const capped = Math.min(Math.ceil(timeoutMs), this.#o.maxRequestTimeoutMs);
    this.#inFlight++;
    try {
      // Timed out here only if the agent's own CHANNEL_TIMEOUT never came: said with the request's own timeout.
      const failures = { ...CHANNEL_FAILURES, timedOut: () => new ChannelTimeoutError(capped) };
      const answer = await agent.channel("request", [id, data, capped], failures, opts?.signal, generation);
      this.#checkSize(answer, agent.nodeId, "an answer");
      return answer;
    } finally {
      this.#inFlight--;
    }
  }

  async ping(id: string, timeoutMs = DEFAULT_PING_TIMEOUT_MS): Promise<number> {
    if (!(timeoutMs > 0)) throw new ValidationError("timeoutMs must be a positive number.");
    const [agent, generation] = await this.#agentOf(id);
    const capped = Math.min(Math.ceil(timeoutMs), this.#o.maxRequestTimeoutMs);
    return agent.channel("ping", [id, capped], CHANNEL_FAILURES, undefined, generation);
  }

  status(id: string): ChannelStatus {
    return this.#states.status(id);
  }

  async waitForHello(id: string, opts?: { signal?: AbortSignal; fresh?: boolean }): Promise<HelloInfo> {
    const status = this.#states.status(id);
    if (!opts?.fresh && status.connected) return helloOf(status);
    const signal = opts?.signal ? AbortSignal.any([opts.signal, this.#closing.signal]) : this.#closing.signal;
    if (!opts?.fresh) {
      const [agent, generation] = await this.#agentOf(id);
      return agent.channel("waitForHello", [id, false], HELLO_FAILURES, signal, generation);
    }
    // A fresh hello may reach the agent before this wait does (a quick workload, one hop more than on one
    // host): the agent, which waits for a hello after the call comes, would then wait in vain, and the
    // caller (readiness, after a start) would time out. That hello's push comes here: one heard from now
    // on is fresh too (it was sent after the caller's start, whose answer it may overtake only in that order).
    const abort = new AbortController();
    const onAbort = () => abort.abort(signal.reason);
    if (signal.aborted) onAbort();
    else signal.addEventListener("abort", onAbort, { once: true });
    let heardHere: ((cid: string, info: HelloInfo) => void) | undefined;
    const heard = new Promise<HelloInfo>((resolve) => {
      heardHere = (cid, info) => {
        if (cid === id) resolve(info);
      };
      this.on("connected", heardHere);
    });
    try {
      return await Promise.race([
        heard,
        this.#agentOf(id).then(([agent, generation]) =>
          agent.channel("waitForHello", [id, true], HELLO_FAILURES, abort.signal, generation),
        ),
      ]);
    } finally {
      if (heardHere) this.off("connected", heardHere);
      signal.removeEventListener("abort", onAbort);
      if (!abort.signal.aborted) abort.abort(new Error("settled"));
    }
  }

  lastBadHello(id: string): BadHelloInfo | undefined {
    return this.#states.lastBadHello(id);
  }

  get connectedCount(): number {
    return this.#states.connectedCount;
  }

  get inFlightCount(): number {
    return this.#inFlight;
  }

  /**
   * The agent of the container's node now, and the generation to stamp its calls with;
   * CHANNEL_NOT_CONNECTED when it has no node or its agent is gone.
   */
  async #agentOf(id: string): Promise<[AgentConnection, number | undefined]> {
    if (this.#closed) throw new ShuttingDownError();
    const { nodeId, generation } = await this.#route(id);
    const agent = nodeId === undefined ? undefined : this.#o.registry.agentFor(nodeId);
    if (!agent)
      throw new ChannelNotConnectedError(undefined, {
        cause: new Error(`no node agent is connected for node ${nodeId ?? "(none)"}`),
      });
    return [agent, generation];
  }

  /** Where a call for the container goes: its node now, with its generation when placements are given. */
  async #route(id: string): Promise<{ nodeId: string | undefined; generation?: number | undefined }> {
    if (this.#o.placementOf === undefined) return { nodeId: await this.#placements.nodeOf(id) };
    return (await this.#o.placementOf(id)) ?? { nodeId: undefined };
  }

  /** Opening and closing a socket is the node's business, as its engine is: DOCKER_UNAVAILABLE when it cannot be reached. */
  #engineFailures(nodeId: string, op: string): ChannelCallFailures {
    return {
      lost: (reason) => unreachable(nodeId, op, reason),
      timedOut: (ms) => unreachable(nodeId, op, `no answer within ${ms} ms`),
    };
  }

  readonly #onAgent = (agent: AgentConnection) => {
    if (this.#closed) return;
    this.#listening.get(agent)?.();
    this.#listening.set(
      agent,
      agent.onChannelPush((push) => this.#onPush(agent, push)),
    );
  };

  readonly #onAgentGone = (agent: AgentConnection) => {
    this.#listening.get(agent)?.();
    this.#listening.delete(agent);
    this.#pushQueues.delete(agent);
    // Also when replaced by a newer connection of its node: that one's snapshot says how things stand.
    this.#states.agentGone(agent.nodeId);
  };

  #onPush(agent: AgentConnection, push: ChannelPush): void {
    const ids =
      push.kind === "channel-snapshot" ? push.channels.map((e) => e.containerId) : [push.containerId];
    const queued = this.#pushQueues.get(agent);
    // The common case at once: nothing of this agent waits, and every placement it needs is known.
    if (!queued && ids.every((id) => this.#placements.known(id) !== "ask")) {
      this.#take(agent, push, (id) => (this.#placements.known(id) as { nodeId: string | undefined }).nodeId);
      return;
    }
    const next = (queued ?? Promise.resolve())
      .then(async () => {
        const nodes = new Map<string, string | undefined>();
        for (const id of ids) {
          const known = this.#placements.known(id);
          nodes.set(id, known === "ask" ? await this.#placements.nodeOf(id) : known.nodeId);
        }
        if (this.#listening.has(agent)) this.#take(agent, push, (id) => nodes.get(id));
      })
      .catch((err: unknown) => {
        for (const id of ids) this.#notPlaced(agent, id, err);
      })
      .finally(() => {
        if (this.#pushQueues.get(agent) === next) this.#pushQueues.delete(agent);
      });
    this.#pushQueues.set(agent, next);
  }

  /** Applies one push, knowing where each of its containers is placed (`nodeOf`). */
  #take(agent: AgentConnection, push: ChannelPush, nodeOf: (id: string) => string | undefined): void {
    try {
      if (push.kind === "channel-snapshot") this.#onSnapshot(agent, push.channels, nodeOf);
      else if (nodeOf(push.containerId) === agent.nodeId) this.#onEvent(agent, push);
      else this.#notPlaced(agent, push.containerId, undefined, nodeOf(push.containerId) === undefined);
    } catch (err) {
      this.#o.log.error({ err, node: agent.nodeId }, "a channel push could not be delivered");
    }
  }

  #onEvent(agent: AgentConnection, push: Extract<ChannelPush, { kind: "channel-event" }>): void {
    const { containerId: id, event } = push;
    if (event.type !== "message") this.#states.changed(id, agent.nodeId, event);
    else if (this.#checkSize(event.data, agent.nodeId, "a message", false))
      this.#emitSafely("message", id, event.data, event.ts);
  }

  /** All of an agent's channels as it holds them now; those this server opened and it lost, opened again. */
  #onSnapshot(
    agent: AgentConnection,
    entries: ChannelSnapshotEntry[],
    nodeOf: (id: string) => string | undefined,
  ): void {
    const placed = entries.filter((e) => {
      if (nodeOf(e.containerId) === agent.nodeId) return true;
      this.#notPlaced(agent, e.containerId, undefined, nodeOf(e.containerId) === undefined);
      return false;
    });
    for (const { id, owner } of this.#states.snapshot(agent.nodeId, placed))
      void this.#reopen(agent, id, owner);
  }

  /**
   * Opens again on its node a channel this server had opened there and the agent lost — only while the
   * workload is still placed on that node: one moved meanwhile must not get a socket on its old node.
   */
  async #reopen(agent: AgentConnection, id: string, owner: { uid: number; gid: number }): Promise<void> {
    try {
      const { nodeId, generation } = await this.#route(id);
      if (nodeId !== agent.nodeId) {
        this.#states.closed(id);
        return;
      }
      await agent.channel(
        "open",
        [id, owner],
        this.#engineFailures(agent.nodeId, "open"),
        undefined,
        generation,
      );
    } catch (err) {
      this.#o.log.warn(
        { err, containerId: id, node: agent.nodeId },
        "could not open a channel again on its node",
      );
    }
  }

  /** A listener that throws must not stop the other changes of a push from being taken. */
  #emitSafely<K extends keyof SocketCommunicationEvents>(
    event: K,
    ...args: SocketCommunicationEvents[K]
  ): void {
    try {
      (this.emit as (event: K, ...args: SocketCommunicationEvents[K]) => boolean)(event, ...args);
    } catch (err) {
      this.#o.log.error({ containerId: args[0], event, err }, "channel event listener threw");
    }
  }

  /**
   * An agent speaks only of containers placed on its own node (a hostile one must not speak for others).
   * One placed on no node at all is no workload any server routes to — another server's image check
   * (whose throwaway is placed by that server alone), or a workload whose delete has just ended its
   * placement — so dropping its push is routine, said at debug level only.
   */
  #notPlaced(agent: AgentConnection, id: string, err?: unknown, placedNowhere = false): void {
    if (placedNowhere) {
      this.#repeated.debug(
        `${agent.nodeId}:${id}:not-placed`,
        { containerId: id, node: agent.nodeId },
        {},
        "dropped a channel push for a container placed on no node",
      );
      return;
    }
    this.#repeated.warn(
      `${agent.nodeId}:${id}:not-placed`,
      { containerId: id, node: agent.nodeId, ...(err === undefined ? {} : { err }) },
      {},
      err === undefined
        ? "dropped a channel push for a container not placed on the agent's node"
        : "dropped a channel push: the container's placement could not be read",
    );
  }

  /** An agent's message or answer is no larger than a workload may send here (BERTH_MAX_FRAME_BYTES). */
  #checkSize(data: unknown, nodeId: string, what: string, raise = true): boolean {
    const bytes = Buffer.byteLength(JSON.stringify(data) ?? "");
    if (bytes <= this.#o.maxFrameBytes) return true;
    this.#repeated.warn(
      `${nodeId}:too-large`,
      { node: nodeId },
      { bytes, limitBytes: this.#o.maxFrameBytes },
      `dropped ${what} from a node agent over the frame limit`,
    );
    if (raise) throw new FrameTooLargeError(bytes, this.#o.maxFrameBytes);
    return false;
  }
}

/** A request, message or ping whose agent went: as the local hub fails a call whose workload went. */
const CHANNEL_FAILURES: ChannelCallFailures = {
  lost: () => new ChannelDisconnectedError(AGENT_LOST),
  timedOut: (ms) => new ChannelTimeoutError(ms),
};

/** A wait for a hello whose agent went: as the local hub fails a wait whose channel is closed. */
const HELLO_FAILURES: ChannelCallFailures = {
  lost: (reason) =>
    new ChannelNotConnectedError(undefined, { cause: new Error(`node agent lost: ${reason}`) }),
  timedOut: (ms) => new ChannelTimeoutError(ms),
};

function unreachable(nodeId: string, op: string, reason = "not connected"): DockerUnavailableError {
  return new DockerUnavailableError({
    details: { op: `channel ${op}` },
    cause: new Error(`node agent of node ${nodeId}: ${reason}`),
  });
}
