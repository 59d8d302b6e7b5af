import { ChannelNotConnectedError } from "../channel/channel-errors.ts";
import type { RequestOptions } from "../channel/channel-port.ts";
import type {
  BadHelloInfo,
  ChannelStatus,
  HelloInfo,
  SocketCommunicationEvents,
} from "../channel/channel-types.ts";
import type { SystemLogger } from "../logging/system-logger.ts";
import type { AgentChannels } from "./channel-pushes.ts";

type Owner = { uid: number; gid: number };

/**
 * The node's channel hub as the API servers reach it, with a fence: while
 * the agent's lease has lapsed (no server that reaches the store vouched for
 * it), every channel is closed — its workload sees its socket go, as at an
 * agent's restart — and every call but `close` fails with
 * CHANNEL_NOT_CONNECTED (`details.reason: "fenced"`): a copy this node holds
 * may be stale by now, moved elsewhere under a newer placement, and must not
 * be reachable through berth. Lifting the fence opens nothing by itself: the
 * agent then tells every server how its channels stand (a snapshot, as when
 * a connection begins), and each server opens again the channels it opened
 * here whose workloads are still placed on this node — never one moved away
 * meanwhile. Their workloads reconnect by themselves. The hub's events pass
 * through unchanged.
 */
export class FencedChannels implements AgentChannels {
  readonly #hub: AgentChannels;
  readonly #log: SystemLogger;
  #fenced = false;
  /** The fence's closing under way: an open waits for it. */
  #turn: Promise<void> = Promise.resolve();

  /** Told of every channel opened through here (NodeFence.channelOpened). */
  onOpened: ((id: string) => void) | undefined;

  constructor(hub: AgentChannels, log: SystemLogger) {
    this.#hub = hub;
    this.#log = log;
  }

  get fenced(): boolean {
    return this.#fenced;
  }

  /** Closes every channel and refuses calls, until `lift()`. Resolves once every socket is gone. */
  fence(): Promise<void> {
    if (this.#fenced) return this.#turn;
    this.#fenced = true;
    const ids = [...this.#hub.openIds];
    this.#log.warn({ channels: ids.length }, "lease lapsed: closing every workload channel of this node");
    this.#turn = this.#turn.then(async () => {
      await Promise.all(ids.map((id) => this.#hub.close(id).catch(() => undefined)));
      this.#log.warn({ channels: ids.length }, "workload channels closed until the lease is renewed");
    });
    return this.#turn;
  }

  /** Serves calls again once the fence's closing is done; resolves then (the agent's snapshot follows). */
  lift(): Promise<void> {
    if (!this.#fenced) return this.#turn;
    this.#fenced = false;
    return this.#turn;
  }

  get openIds(): readonly string[] {
    return this.#hub.openIds;
  }

  async open(id: string, owner: Owner): Promise<void> {
    this.#refuseIfFenced();
    await this.#turn;
    this.#refuseIfFenced();
    await this.#hub.open(id, owner);
    this.onOpened?.(id);
  }

  close(id: string): Promise<void> {
    return this.#hub.close(id);
  }

  closeAll(): Promise<void> {
    return this.#hub.closeAll();
  }

  send(id: string, data: unknown): Promise<void> {
    if (this.#fenced) return Promise.reject(fencedError());
    return this.#hub.send(id, data);
  }

  request(id: string, data: unknown, opts?: RequestOptions): Promise<unknown> {
    if (this.#fenced) return Promise.reject(fencedError());
    return this.#hub.request(id, data, opts);
  }

  ping(id: string, timeoutMs?: number): Promise<number> {
    if (this.#fenced) return Promise.reject(fencedError());
    return this.#hub.ping(id, timeoutMs);
  }

  waitForHello(id: string, opts?: { signal?: AbortSignal; fresh?: boolean }): Promise<HelloInfo> {
    if (this.#fenced) return Promise.reject(fencedError());
    return this.#hub.waitForHello(id, opts);
  }

  status(id: string): ChannelStatus {
    return this.#hub.status(id);
  }

  lastBadHello(id: string): BadHelloInfo | undefined {
    return this.#hub.lastBadHello(id);
  }

  get connectedCount(): number {
    return this.#hub.connectedCount;
  }

  get inFlightCount(): number {
    return this.#hub.inFlightCount;
  }

  on<K extends keyof SocketCommunicationEvents>(
    event: K,
    listener: (...args: SocketCommunicationEvents[K]) => void,
  ): this {
    this.#hub.on(event, listener);
    return this;
  }

  off<K extends keyof SocketCommunicationEvents>(
    event: K,
    listener: (...args: SocketCommunicationEvents[K]) => void,
  ): this {
    this.#hub.off(event, listener);
    return this;
  }

  #refuseIfFenced(): void {
    if (this.#fenced) throw fencedError();
  }
}

function fencedError(): ChannelNotConnectedError {
  return new ChannelNotConnectedError(undefined, {
    details: { reason: "fenced" },
    cause: new Error("this node agent's lease has lapsed: its channels are fenced"),
  });
}
