import type { Push } from "../agent-link/agent-link-contract.ts";
import type { ChannelSnapshotEntry } from "../agent-link/channel-ops.ts";
import type { ChannelPort } from "../channel/channel-port.ts";
import type { DisconnectReason, SocketCommunicationEvents } from "../channel/channel-types.ts";

/** The node's channel hub as the agent pushes it: the port, and which channels are open. */
export type AgentChannels = ChannelPort & { readonly openIds: readonly string[] };

type ChannelPush = Extract<Push, { kind: "channel-event" | "channel-snapshot" }>;
type Listeners = { [K in keyof SocketCommunicationEvents]: (...args: SocketCommunicationEvents[K]) => void };

/** Every channel the agent holds, with its status and latest refused hello: what a server that connects is told first. */
export function channelSnapshot(channels: AgentChannels): ChannelPush {
  const entries: ChannelSnapshotEntry[] = channels.openIds.map((containerId) => {
    const bad = channels.lastBadHello(containerId);
    return { containerId, status: channels.status(containerId), ...(bad ? { lastBadHello: bad } : {}) };
  });
  return { kind: "channel-snapshot", channels: entries };
}

/**
 * Turns the hub's events into pushes for `push` (every connected API server:
 * each delivers them to its own clients). A status travels with each change,
 * so a server's synchronous `status(id)` follows. Returns how to stop.
 */
export function forwardChannelEvents(channels: AgentChannels, push: (p: ChannelPush) => void): () => void {
  const listeners: Listeners = {
    message: (containerId, data, ts) =>
      push({ kind: "channel-event", containerId, event: { type: "message", data, ts } }),
    connected: (containerId, info) =>
      push({
        kind: "channel-event",
        containerId,
        event: { type: "connected", info, status: channels.status(containerId) },
      }),
    disconnected: (containerId, reason) =>
      push({
        kind: "channel-event",
        containerId,
        event: {
          type: "disconnected",
          reason: reason as Exclude<DisconnectReason, "agent_lost">,
          status: channels.status(containerId),
        },
      }),
    bad_hello: (containerId, reason, message) =>
      push({
        kind: "channel-event",
        containerId,
        event: {
          type: "bad_hello",
          bad: channels.lastBadHello(containerId) ?? { reason, message, at: Date.now() },
        },
      }),
  };
  for (const [event, listener] of Object.entries(listeners))
    channels.on(event as keyof Listeners, listener as never);
  return () => {
    for (const [event, listener] of Object.entries(listeners))
      channels.off(event as keyof Listeners, listener as never);
  };
}
