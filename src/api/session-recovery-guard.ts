import type { Namespace } from "socket.io";
import type { ClientToServerEvents, ServerToClientEvents } from "#protocol";
import type { InterServerEvents, SocketData } from "./contract.ts";

type BerthNamespace = Namespace<ClientToServerEvents, ServerToClientEvents, InterServerEvents, SocketData>;

/**
 * Lets a reconnect restore a session only when `mayRestore` says the token it
 * presents is the one the session was made with; any other reconnect starts a
 * fresh session (and then has to pass the handshake like any other).
 *
 * Why here, and not in a middleware: in socket.io 4.8, `Namespace._add` first
 * restores the session named by `auth.pid` and `auth.offset` from the
 * adapter, and the Socket's constructor at once re-joins the session's rooms
 * and writes every packet it missed to the connection — before any
 * middleware runs, with `skipMiddlewares` or without. A middleware that
 * refuses the token afterwards is too late: the missed packets are already
 * on the wire. So the decision is made before `_add` (declared on the
 * Namespace's public type, though marked private in its docs), by looking at
 * the stored session through the adapter's own `restoreSession`.
 */
export function guardSessionRecovery(
  nsp: BerthNamespace,
  mayRestore: (token: unknown, session: SocketData) => boolean,
): void {
  const add = nsp._add.bind(nsp);
  nsp._add = async (client, auth, fn) => {
    const { pid, offset, ...fresh } = auth;
    if (typeof pid !== "string" || typeof offset !== "string") return add(client, fresh, fn);
    // The adapter answers a promise, or plain null for a session it never held (socket.io-adapter's
    // in-memory one after a berth restart): `.catch` on that threw, the handshake never ended, and every
    // client that came back after a restart with its old session id waited for ever.
    let session: Awaited<ReturnType<typeof nsp.adapter.restoreSession>> | null = null;
    try {
      session = await nsp.adapter.restoreSession(pid, offset);
    } catch {
      session = null;
    }
    // Fails closed: `_add` looks the session up again, and an adapter that could not show it here (null, an
    // error, a store that answers differently the second time) must not get to restore it there unchecked.
    if (!session || !mayRestore(auth.token, session.data as SocketData)) return add(client, fresh, fn);
    return add(client, auth, fn);
  };
}
