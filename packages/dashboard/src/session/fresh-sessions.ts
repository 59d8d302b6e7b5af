import type { BerthClient } from "@berth/client";

/**
 * Has the dashboard's client reconnect as a new Socket.IO session rather than
 * ask berth to recover the one that dropped, by forgetting the session's id
 * (`pid`, which socket.io-client sends back with the next handshake) as soon
 * as the connection drops.
 *
 * Why: the dashboard needs no recovery — after every reconnect it reads its
 * state afresh (the container list, the activity after the newest entry
 * held), and the client SDK restores its streams. And asking for one is
 * harmful after a berth restart: berth's recovery guard
 * (src/api/session-recovery-guard.ts) calls `.catch` on what the adapter's
 * `restoreSession` returns, which for a session the new berth never had is
 * `null`, not a promise; the handshake then never completes, and the page
 * would wait for ever. Remove this once berth handles an unknown session.
 *
 * `_pid` is socket.io-client's own (4.x) field; without it the next
 * handshake carries only the token.
 */
export function reconnectAsFreshSessions(client: BerthClient): () => void {
  const socket = client.socket as unknown as {
    _pid?: string;
    on(e: string, f: () => void): void;
    off(e: string, f: () => void): void;
  };
  const forget = () => {
    delete socket._pid;
  };
  socket.on("disconnect", forget);
  return () => socket.off("disconnect", forget);
}
