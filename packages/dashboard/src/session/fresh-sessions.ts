import type { BerthClient } from "@berth/client";

/**
 * Has the dashboard's client reconnect as a new Socket.IO session rather than
 * ask berth to recover the one that dropped: the session's id (`_pid`, which
 * socket.io-client keeps from the connect and sends back with each later
 * handshake) is never kept, so a reconnect's handshake carries the token only.
 *
 * Why: the dashboard needs no recovery — after every reconnect it reads its
 * state afresh (the container list, the activity after the newest entry
 * held), and the client SDK restores its streams. And asking for one hangs
 * after a berth restart: berth's recovery guard
 * (src/api/session-recovery-guard.ts) calls `.catch` on what the adapter's
 * `restoreSession` returns, which for a session the new berth never had is
 * `null`, not a promise; the handshake then never completes, and the page
 * would wait for ever. Remove this once berth handles an unknown session.
 *
 * A property on the socket rather than a `disconnect` listener: socket.io-client
 * may send the next handshake in the same turn as the disconnect, before a
 * listener added after the client's own could forget the id.
 */
export function reconnectAsFreshSessions(client: BerthClient): void {
  Object.defineProperty(client.socket, "_pid", {
    configurable: true,
    get: () => undefined,
    set: () => {},
  });
}
