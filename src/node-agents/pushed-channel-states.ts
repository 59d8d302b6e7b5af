import type { ChannelEvent, ChannelSnapshotEntry } from "../agent-link/channel-ops.ts";
import type {
  BadHelloInfo,
  ChannelStatus,
  HelloInfo,
  SocketCommunicationEvents,
} from "../channel/channel-types.ts";

type Owner = { uid: number; gid: number };

/** What this server knows of one channel it opened or heard of, from its node's agent. */
interface Known {
  nodeId: string;
  status: ChannelStatus;
  lastBadHello?: BadHelloInfo;
  /** Set when this server opened it: opened again on an agent that comes back without it. */
  owner?: Owner;
}

/** Emits one of the channel port's events (RemoteChannels' own emit). */
type Emit = <K extends keyof SocketCommunicationEvents>(
  event: K,
  ...args: SocketCommunicationEvents[K]
) => void;

/** An agent lost: its workloads' `disconnected` reason. */
export const AGENT_LOST = "agent_lost";

/**
 * The workload channels of a cluster as their agents last told this API
 * server (every change, and a snapshot of all of a node's channels when its
 * agent connects): the synchronous half of RemoteChannels — `status(id)`,
 * `lastBadHello(id)`, `connectedCount` — and the `connected`, `disconnected`
 * and `bad_hello` events each change makes, as the local hub emits them. Only
 * what was already checked comes here (the pushing agent's node is the
 * container's placement).
 */
export class PushedChannelStates {
  readonly #known = new Map<string, Known>();
  readonly #emit: Emit;

  constructor(emit: Emit) {
    this.#emit = emit;
  }

  status(id: string): ChannelStatus {
    return this.#known.get(id)?.status ?? { connected: false };
  }

  lastBadHello(id: string): BadHelloInfo | undefined {
    return this.#known.get(id)?.lastBadHello;
  }

  /** The node `id` was last known on here. */
  nodeOf(id: string): string | undefined {
    return this.#known.get(id)?.nodeId;
  }

  get connectedCount(): number {
    let n = 0;
    for (const known of this.#known.values()) if (known.status.connected) n++;
    return n;
  }

  /** This server opened `id` on `nodeId`'s agent (as `owner`). */
  opened(id: string, nodeId: string, owner: Owner): void {
    this.#on(id, nodeId).owner = owner;
  }

  /** This server closed `id`: forgotten. */
  closed(id: string): void {
    this.#known.delete(id);
  }

  /** One change on a channel of `nodeId` (a message is not a state: RemoteChannels emits it). */
  changed(id: string, nodeId: string, event: Exclude<ChannelEvent, { type: "message" }>): void {
    const known = this.#on(id, nodeId);
    if (event.type === "bad_hello") {
      known.lastBadHello = event.bad;
      this.#emit("bad_hello", id, event.bad.reason, event.bad.message);
    } else if (event.type === "connected") {
      delete known.lastBadHello; // cleared by a good one, as locally
      known.status = event.status;
      this.#emit("connected", id, event.info);
    } else this.#set(id, known, event.status, event.reason);
  }

  /**
   * All of `nodeId`'s channels as its agent holds them now (`entries`, each placed on that node).
   * Returns the channels this server opened there that the agent no longer holds (it restarted):
   * to be opened again.
   */
  snapshot(nodeId: string, entries: readonly ChannelSnapshotEntry[]): Array<{ id: string; owner: Owner }> {
    const seen = new Set<string>();
    for (const entry of entries) {
      seen.add(entry.containerId);
      const known = this.#on(entry.containerId, nodeId);
      if (entry.lastBadHello) known.lastBadHello = entry.lastBadHello;
      else delete known.lastBadHello;
      if (entry.status.connected && !known.status.connected) {
        known.status = entry.status;
        this.#emit("connected", entry.containerId, helloOf(entry.status));
      } else this.#set(entry.containerId, known, entry.status, "closed");
    }
    const reopen: Array<{ id: string; owner: Owner }> = [];
    for (const [id, known] of this.#known) {
      if (known.nodeId !== nodeId || seen.has(id)) continue;
      this.#set(id, known, { ...known.status, connected: false }, AGENT_LOST);
      if (known.owner) reopen.push({ id, owner: known.owner });
      else this.#known.delete(id);
    }
    return reopen;
  }

  /** `nodeId`'s agent is gone: its channels are disconnected here. */
  agentGone(nodeId: string): void {
    for (const [id, known] of this.#known)
      if (known.nodeId === nodeId) this.#set(id, known, { ...known.status, connected: false }, AGENT_LOST);
  }

  /** The status `next`, with a `disconnected` event when it ends a connection (as the local hub's). */
  #set(id: string, known: Known, next: ChannelStatus, reason: string): void {
    const was = known.status.connected;
    known.status = next;
    if (was && !next.connected)
      (this.#emit as (e: "disconnected", id: string, reason: string) => void)("disconnected", id, reason);
  }

  /** The entry of `id` on `nodeId`; a fresh one when it was unknown or known on another node. */
  #on(id: string, nodeId: string): Known {
    let known = this.#known.get(id);
    if (known?.nodeId !== nodeId) {
      known = { nodeId, status: { connected: false } };
      this.#known.set(id, known);
    }
    return known;
  }
}

/** The hello of a connected channel, from its status. */
export function helloOf(status: ChannelStatus): HelloInfo {
  const info: HelloInfo = { protocol: status.protocol ?? 0, connectedAt: status.connectedAt ?? 0 };
  if (status.meta !== undefined) info.meta = status.meta;
  return info;
}
