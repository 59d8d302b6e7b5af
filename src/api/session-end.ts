import type { BerthSocket } from "./register-handler.ts";

/**
 * The reasons of a disconnect that Socket.IO keeps a session for (socket.io
 * 4.8's `RECOVERABLE_DISCONNECT_REASONS`, which it does not export; a test
 * reads socket.io's source to keep the two the same). Any other end is for
 * good: the server's `disconnect(true)` (a buffer bound, a revoked token), the
 * client's own `disconnect()`.
 */
export const RECOVERABLE_DISCONNECT_REASONS: ReadonlySet<string> = new Set([
  "transport error",
  "transport close",
  "forced close",
  "ping timeout",
  "server shutting down",
  "forced server close",
]);

/**
 * Calls `forget` with the socket's session id (`pid`) when the socket ends
 * for good, once: a session kept for it (in Redis by SessionKeeper, or by the
 * in-memory adapter since an earlier recovery) must not outlive such an end,
 * or the client could come back within two minutes with its rooms and the
 * pushes since, where Socket.IO itself keeps nothing.
 */
export function forgetWhenEndedForGood(socket: BerthSocket, forget: (pid: string) => void): void {
  // `pid`, the private session id the client presents to recover, is Socket.IO's own (private in its docs).
  const { pid } = socket as unknown as { pid?: string };
  if (!pid) return;
  socket.once("disconnect", (reason) => {
    if (!RECOVERABLE_DISCONNECT_REASONS.has(reason)) forget(pid);
  });
}
