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
 * be reachable through berth. When the lease is renewed, the channels it
 * closed are opened again with their owners, and their workloads reconnect by
 * themselves. The hub's events pass through unchanged.
 */
export class FencedChannels implements AgentChannels {
  readonly #hub: AgentChannels;
  readonly #log: SystemLogger;
  /** Each channel opened through here, with its owner: what a fence closes and a renewal opens again. */
  readonly #owners = new Map<string, Owner>();
  #fenced = false;
  /** The fence's own closing or opening under way: the next waits for it. */
  #turn: Promise<void> = Promise.resolve();

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
    const ids = [...this.#owners.keys()];
    this.#log.warn({ channels: ids.length }, "lease lapsed: closing every workload channel of this node");
    this.#turn = this.#turn.then(async () => {
      await Promise.all(ids.map((id) => this.#hub.close(id).catch(() => undefined)));
      this.#log.warn({ channels: ids.length }, "workload channels closed until the lease is renewed");
    });
    return this.#turn;
  }

  /** Opens again the channels the fence closed (those not closed by a server meanwhile), and serves calls. */
  lift(): Promise<void> {
    if (!this.#fenced) return this.#turn;
    this.#fenced = false;
    const owners = [...this.#owners];
    this.#turn = this.#turn.then(async () => {
      let opened = 0;
      for (const [id, owner] of owners) {
        if (this.#fenced || this.#owners.get(id) !== owner) continue;
        try {
          await this.#hub.open(id, owner);
          opened++;
        } catch (err) {
          this.#log.warn({ err, containerId: id }, "could not open a workload channel again after the fence");
        }
      }
      this.#log.info({ channels: opened }, "lease renewed: workload channels open again");
    });
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
    this.#owners.set(id, owner);
  }

  async close(id: string): Promise<void> {
    this.#owners.delete(id);
    await this.#hub.close(id);
  }

  closeAll(): Promise<void> {
    this.#owners.clear();
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
